/**
 * The README's "Sleeping tasks" and "Looping tasks" examples, as written there (facade and Effect
 * API), with their documented outputs.
 */
import { expect as effectExpect, it as effectIt } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { describe, expect, it } from "vitest"
import * as DurableExecutor from "../src/DurableExecutor.js"
import { createInMemoryStorage, DurableExecutor as Executor } from "../src/index.js"
import * as Task from "../src/Task.js"

describe("README: Sleeping tasks", () => {
  it("the facade example: a parent's child sleeps until a webhook wakes it", async () => {
    const executor = new Executor(createInMemoryStorage(), { logLevel: "none", pollIntervalMs: 20 })
    try {
      const waitForPayment = executor.sleepingTask<string>({ id: "wait_for_payment", timeoutMs: 3_600_000 })
      const order = executor.parentTask({
        id: "order",
        timeoutMs: 10_000,
        runParent: (_ctx, orderId: string) => ({
          output: orderId,
          childrenTasks: [{ task: waitForPayment, input: orderId }] // sleeps until woken
        })
      })
      await executor.start()
      const handle = await executor.enqueueTask(order, "order-7")
      // later, in any process (a webhook handler):
      for (;;) {
        try {
          await executor.wakeupSleepingTaskExecution(waitForPayment, "order-7", { status: "completed", output: "paid" })
          break
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 10)) // the parent has not run yet
        }
      }
      const done = await handle.waitAndGetExecution()
      expect(done.output).toEqual({
        output: "order-7",
        childrenOutputs: [{ taskId: "wait_for_payment", executionId: expect.any(String), output: "paid" }]
      })
    } finally {
      await executor.shutdown()
    }
  })

  effectIt.live("the Effect example: Task.sleeping and executor.wakeup", () => {
    const paidAt = Task.sleeping({ id: "paid_at", timeoutMs: 60_000, output: Schema.DateFromNumber })
    const program = Effect.gen(function*() {
      const executor = yield* DurableExecutor.DurableExecutor
      const id = yield* executor.enqueue(paidAt, "invoice-3")
      yield* executor.wakeup(paidAt, "invoice-3", { status: "completed", output: new Date(0) })
      return yield* executor.wait(id) // { status: "completed", output: Date(0), ... }
    })
    return Effect.map(
      program.pipe(Effect.provide(DurableExecutor.layerMemory({ tasks: [paidAt] }))),
      (done) => effectExpect(done).toMatchObject({ status: "completed", output: new Date(0) })
    )
  })
})

describe("README: Looping tasks", () => {
  it("the facade example: checks until the export is ready", async () => {
    const executor = new Executor(createInMemoryStorage(), { logLevel: "none", pollIntervalMs: 20 })
    let checks = 0
    const isExportReady = async (_exportId: string) => ++checks === 3
    try {
      await executor.start()
      const checkExport = executor.task({
        id: "check_export",
        timeoutMs: 10_000,
        run: async (_ctx, exportId: string) => {
          const ready = await isExportReady(exportId)
          return ready ? { isDone: true, output: `${exportId} ready` } : { isDone: false }
        }
      })
      const waitForExport = executor.loopingTask("wait_for_export", checkExport, 10, 50)
      const done = await (await executor.enqueueTask(waitForExport, "exp-1")).waitAndGetExecution()
      expect(done.output).toEqual({ isSuccess: true, output: "exp-1 ready" })
      expect(checks).toBe(3)
    } finally {
      await executor.shutdown()
    }
  })

  effectIt.live("the Effect API: Task.looping gives up after maxAttempts", () => {
    const never = Task.make({ id: "never", timeoutMs: 1_000, run: () => Effect.succeed({ isDone: false }) })
    const loop = Task.looping({ id: "never_loop", iteration: never, maxAttempts: 3, sleepMsBetweenIterations: 10 })
    return Effect.gen(function*() {
      const executor = yield* DurableExecutor.DurableExecutor
      const done = yield* executor.wait(yield* executor.enqueue(loop, undefined))
      effectExpect(done.output).toEqual({ isSuccess: false })
    }).pipe(Effect.provide(DurableExecutor.layerMemory({ tasks: [loop], pollIntervalMs: 20 })))
  })
})
