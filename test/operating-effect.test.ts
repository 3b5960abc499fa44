/**
 * The operations on the Effect API's executor service: a run that fails then succeeds lists with
 * its attempts, its tree and counts; bad arguments fail with InvalidQuery naming the field; a purge
 * deletes the finished tree.
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import { describe, expect, it } from "vitest"
import * as DurableExecutor from "../src/DurableExecutor.js"
import type { OperationError } from "../src/ExecutionQueries.js"
import * as MemoryStorage from "../src/MemoryStorage.js"
import * as Signals from "../src/Signals.js"
import * as Task from "../src/Task.js"

let calls = 0
const flaky = Task.make({
  id: "flaky",
  timeoutMs: 1_000,
  retryOptions: { maxAttempts: 1, baseDelayMs: 1 },
  run: () => Effect.suspend(() => (++calls === 1 ? Effect.fail(new Error("first")) : Effect.succeed(7)))
})

const layer = DurableExecutor.layer({ tasks: [flaky], pollIntervalMs: 20 }).pipe(
  Layer.provide(Layer.merge(MemoryStorage.layer, Signals.layerMemory))
)

describe("operations on the Effect API", () => {
  it("lists, counts, draws the tree, refuses bad arguments by field, and purges", async () => {
    const result = await Effect.runPromise(
      Effect.gen(function*() {
        const executor = yield* DurableExecutor.DurableExecutor
        const id = yield* executor.enqueue(flaky, undefined)
        const done = yield* executor.wait(id, { pollIntervalMs: 10 })
        const page = yield* executor.listExecutions({ status: "completed", taskId: "flaky" })
        const counts = yield* executor.countExecutions({ by: "status" })
        const tree = yield* executor.getExecutionTree(id)
        const bad = yield* Effect.either(executor.listExecutions({ limit: 5_000 }))
        const badPurge = yield* Effect.either(executor.purgeExecutions({ finishedBefore: Number.NaN }))
        const kept = yield* executor.purgeExecutions({ finishedBefore: 0 })
        const purged = yield* executor.purgeExecutions({ finishedBefore: Date.UTC(3000, 0) })
        const after = yield* executor.listExecutions()
        return { id, done, page, counts, tree, bad, badPurge, kept, purged, after }
      }).pipe(Effect.provide(layer))
    )
    expect(result.done.status).toBe("completed")
    expect(result.done.attempts.map((a) => [a.status, a.error?.message])).toEqual([["ready", "first"], [
      "completed",
      undefined
    ]])
    expect(result.page.executions.map((e) => e.executionId)).toEqual([result.id])
    expect(result.page.nextCursor).toBeNull()
    expect(result.counts).toEqual({ completed: 1 })
    expect(result.tree).toEqual({ execution: result.done, children: [] })
    const fieldOf = (e: Either.Either<unknown, OperationError>) =>
      Either.isLeft(e) && e.left._tag === "InvalidQuery" ? e.left.field : undefined
    expect(fieldOf(result.bad)).toBe("limit")
    expect(fieldOf(result.badPurge)).toBe("finishedBefore")
    expect(result.kept).toBe(0)
    expect(result.purged).toBe(1)
    expect(result.after.executions).toEqual([])
  })
})
