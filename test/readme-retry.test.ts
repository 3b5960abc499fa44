/**
 * README "Operating" → "Retry and redrive": the facade's calls as written there (a parent whose
 * child failed, retried; a refused retry; the bulk forms), and the Effect service's.
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import { describe, expect, it } from "vitest"
import * as DurableExecutor from "../src/DurableExecutor.js"
import {
  createInMemoryStorage,
  DurableExecutionNotRetryableError,
  DurableExecutor as FacadeExecutor
} from "../src/index.js"
import * as MemoryStorage from "../src/MemoryStorage.js"
import * as Signals from "../src/Signals.js"
import * as Task from "../src/Task.js"

describe("README: Retry and redrive", () => {
  it("the facade's calls", async () => {
    const executor = new FacadeExecutor(createInMemoryStorage(), { logLevel: "none", pollIntervalMs: 20 })
    let sends = 0
    const email = executor.task({
      id: "email",
      timeoutMs: 1_000,
      run: () => {
        if (++sends === 1) throw new Error("smtp down")
        return "sent"
      }
    })
    const notify = executor.parentTask({
      id: "notify",
      timeoutMs: 1_000,
      runParent: () => ({ output: "n", childrenTasks: [{ task: email, input: undefined }] })
    })
    await executor.start()
    try {
      const handle = await executor.enqueueTask(notify)
      const failed = await handle.waitAndGetExecution()
      expect(failed.status).toBe("children_tasks_failed")
      const reopened = await executor.retryExecution(failed.executionId)
      expect(reopened.status).toBe("waiting_for_children_tasks")
      const done = await handle.waitAndGetExecution()
      expect(done.status).toBe("completed")
      expect(done.output?.childrenOutputs[0]!.output).toBe("sent")
      const refused = await executor.retryExecution(done.executionId).catch((e: unknown) => e)
      expect(refused).toBeInstanceOf(DurableExecutionNotRetryableError)
      expect((refused as DurableExecutionNotRetryableError).status).toBe("completed")

      expect(await executor.retryExecutions({ status: "timed_out", taskId: "email" })).toEqual({
        retried: 0,
        skipped: 0
      })
      const yesterday = new Date(Date.now() - 86_400_000)
      expect(await executor.cancelExecutions({ taskId: "email", createdBefore: yesterday })).toEqual({
        cancelled: 0,
        skipped: 0
      })
    } finally {
      await executor.shutdown()
    }
  })

  it("the Effect service's calls", async () => {
    let runs = 0
    const flaky = Task.make({
      id: "flaky",
      timeoutMs: 1_000,
      run: () => Effect.suspend(() => (++runs === 1 ? Effect.fail(new Error("first")) : Effect.succeed(runs)))
    })
    const layer = DurableExecutor.layer({ tasks: [flaky], pollIntervalMs: 20 }).pipe(
      Layer.provide(Layer.merge(MemoryStorage.layer, Signals.layerMemory))
    )
    const result = await Effect.runPromise(
      Effect.gen(function*() {
        const service = yield* DurableExecutor.DurableExecutor
        const executionId = yield* service.enqueue(flaky, undefined)
        const failed = yield* service.wait(executionId, { pollIntervalMs: 10 })
        yield* service.retryExecution(executionId)
        const done = yield* service.wait(executionId, { pollIntervalMs: 10 })
        const refused = yield* Effect.either(service.retryExecution(executionId))
        const other = yield* service.enqueue(flaky, undefined)
        yield* service.wait(other, { pollIntervalMs: 10 })
        const { retried } = yield* service.retryExecutions({ status: "failed" })
        return { failed, done, refused, retried }
      }).pipe(Effect.provide(layer))
    )
    expect(result.failed.status).toBe("failed")
    expect(result.done.status).toBe("completed")
    expect(result.done.attemptCount).toBe(2)
    expect(Either.isLeft(result.refused) && result.refused.left._tag).toBe("ExecutionNotRetryable")
    expect(result.retried).toBe(0)
  })
})
