/**
 * Behaviour of the executor's fast paths: batch enqueue, run timeouts kept by one loop, waits served
 * by one watcher (with polling when a finish notification is lost), and the facade's fiber-less waits.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import * as DurableExecutor from "../src/DurableExecutor.js"
import {
  createInMemoryStorage,
  DurableExecutionNotFoundError,
  DurableExecutor as PromiseExecutor,
  DurableWaitAbortedError
} from "../src/index.js"
import * as Signals from "../src/Signals.js"
import * as Task from "../src/Task.js"
import { TaskStorage } from "../src/TaskStorage.js"
import { engineLayer } from "./support/engine.js"

/** An executor over a fresh in-memory storage, with the storage kept in context for inspection. */
const engine = (options: DurableExecutor.LayerOptions, signals: Layer.Layer<Signals.Signals> = Signals.layerMemory) =>
  engineLayer({ pollIntervalMs: 1_000, ...options }, { signals })

/** Signals that never deliver finish notifications: waits must fall back to polling. */
const signalsLosingFinishes = Layer.sync(Signals.Signals, () => {
  const hub = Signals.makeHub().service
  return { ...hub, notifyFinished: () => Effect.void }
})

const double = Task.make({
  id: "double",
  timeoutMs: 10_000,
  input: Schema.Number,
  run: (n: number) => Effect.succeed(n * 2)
})

describe("enqueueMany", () => {
  it.effect("stores every execution in one call and returns their ids in input order", () =>
    Effect.gen(function*() {
      const executor = yield* DurableExecutor.DurableExecutor
      const ids = yield* executor.enqueueMany(double, [1, 2, 3, 4])
      assert.strictEqual(ids.length, 4)
      assert.strictEqual(new Set(ids).size, 4)
      const outputs = yield* Effect.forEach(ids, (id) => Effect.map(executor.wait(id), (e) => e.output))
      assert.deepStrictEqual(outputs, [2, 4, 6, 8])
      assert.deepStrictEqual(yield* executor.enqueueMany(double, []), [])
    }).pipe(Effect.provide(engine({ tasks: [double] }))))

  it.effect("stores nothing when one input is invalid", () =>
    Effect.gen(function*() {
      const executor = yield* DurableExecutor.DurableExecutor
      const storage = yield* TaskStorage
      const error = yield* Effect.flip(executor.enqueueMany(double, [1, "two" as unknown as number, 3]))
      assert.strictEqual(error._tag, "InvalidTaskInput")
      assert.strictEqual((yield* storage.list({ limit: 100 })).length, 0)
    }).pipe(Effect.provide(engine({ tasks: [double] }))))
})

describe("run timeouts", () => {
  it.effect("interrupts a run that outlives its timeout and records a timed-out attempt", () => {
    let interrupted = 0
    const hang = Task.make({
      id: "hang",
      timeoutMs: 1_000,
      retryOptions: { maxAttempts: 0 },
      run: () => Effect.onInterrupt(Effect.never, () => Effect.sync(() => interrupted++))
    })
    return Effect.gen(function*() {
      const executor = yield* DurableExecutor.DurableExecutor
      const id = yield* executor.enqueue(hang, undefined)
      yield* TestClock.adjust(999)
      assert.strictEqual((yield* executor.get(id)).status, "running")
      yield* TestClock.adjust(1)
      const execution = yield* executor.wait(id)
      assert.strictEqual(execution.status, "timed_out")
      assert.strictEqual(execution.error?.errorType, "timed_out")
      assert.strictEqual(interrupted, 1)
    }).pipe(Effect.provide(engine({ tasks: [hang] })))
  })

  it.effect("leaves runs that end in time alone, however many time out around them", () => {
    const hang = Task.make({ id: "hang", timeoutMs: 500, retryOptions: { maxAttempts: 0 }, run: () => Effect.never })
    const quick = Task.make({ id: "quick", timeoutMs: 500, run: () => Effect.as(Effect.sleep(400), "done") })
    return Effect.gen(function*() {
      const executor = yield* DurableExecutor.DurableExecutor
      const hung = yield* executor.enqueueMany(hang, [1, 2, 3])
      const quickIds = yield* executor.enqueueMany(quick, [1, 2, 3])
      yield* TestClock.adjust(400)
      for (const id of quickIds) assert.strictEqual((yield* executor.wait(id)).output, "done")
      yield* TestClock.adjust(100)
      for (const id of hung) assert.strictEqual((yield* executor.wait(id)).status, "timed_out")
    }).pipe(Effect.provide(engine({ tasks: [hang, quick] })))
  })
})

describe("waits", () => {
  it.effect("many waits on one execution all see it finish", () =>
    Effect.gen(function*() {
      const executor = yield* DurableExecutor.DurableExecutor
      const slow = Task.make({ id: "slow", timeoutMs: 10_000, run: () => Effect.as(Effect.sleep(100), 7) })
      const id = yield* executor.enqueue(slow, undefined)
      const waits = yield* Effect.fork(
        Effect.all(Array.from({ length: 5 }, () => executor.wait(id)), { concurrency: "unbounded" })
      )
      yield* TestClock.adjust(100)
      const executions = yield* Fiber.join(waits)
      assert.deepStrictEqual(executions.map((e) => e.output), [7, 7, 7, 7, 7])
    }).pipe(Effect.provide(engine({}))))

  it.effect("falls back to polling when the finish notification is lost", () => {
    const slow = Task.make({ id: "slow", timeoutMs: 10_000, run: () => Effect.as(Effect.sleep(100), "late") })
    return Effect.gen(function*() {
      const executor = yield* DurableExecutor.DurableExecutor
      const id = yield* executor.enqueue(slow, undefined)
      const wait = yield* Effect.fork(executor.wait(id, { pollIntervalMs: 5_000 }))
      yield* TestClock.adjust(100)
      assert.strictEqual((yield* executor.get(id)).status, "completed")
      assert.isUndefined(wait.unsafePoll() ?? undefined)
      yield* TestClock.adjust(5_000)
      const exit = yield* Fiber.await(wait)
      assert.isTrue(Exit.isSuccess(exit) && exit.value.output === "late")
    }).pipe(Effect.provide(engine({ tasks: [slow] }, signalsLosingFinishes)))
  })

  it.effect("fails with ExecutionNotFound for an unknown id", () =>
    Effect.gen(function*() {
      const executor = yield* DurableExecutor.DurableExecutor
      const error = yield* Effect.flip(executor.wait("te_unknown"))
      assert.strictEqual(error._tag, "ExecutionNotFound")
    }).pipe(Effect.provide(engine({}))))
})

describe("Promise facade fast paths", () => {
  it("enqueueTasks returns one handle per input, in order, and every wait resolves", async () => {
    const executor = new PromiseExecutor(createInMemoryStorage())
    const square = executor.task({ id: "square", timeoutMs: 5_000, run: (_ctx, n: number) => n * n })
    const later = executor.task({ id: "later", timeoutMs: 5_000, run: async (_ctx, n: number) => n + 1 })
    await executor.start()
    try {
      const handles = await executor.enqueueTasks(square, [1, 2, 3, 4, 5])
      assert.deepStrictEqual(handles.map((h) => h.getTaskId()), ["square", "square", "square", "square", "square"])
      const executions = await Promise.all(handles.map((h) => h.waitAndGetExecution()))
      assert.deepStrictEqual(executions.map((e) => e.output), [1, 4, 9, 16, 25])
      const again = await Promise.all(handles.map((h) => h.waitAndGetExecution()))
      assert.deepStrictEqual(again.map((e) => e.executionId), handles.map((h) => h.getExecutionId()))
      const asyncOutputs = await Promise.all(
        (await executor.enqueueTasks(later, [1, 2])).map((h) => h.waitAndGetExecution())
      )
      assert.deepStrictEqual(asyncOutputs.map((e) => e.output), [2, 3])
      assert.deepStrictEqual(await executor.enqueueTasks(square, []), [])
    } finally {
      await executor.shutdown()
    }
  })

  it("enqueueTasks rejects the whole batch when one input is invalid", async () => {
    const executor = new PromiseExecutor(createInMemoryStorage())
    const positive = executor.validateInput((n: number) => {
      if (n <= 0) throw new Error("must be positive")
      return n
    }).task({ id: "positive", timeoutMs: 5_000, run: (_ctx, n: number) => n })
    try {
      let rejected: unknown
      await executor.enqueueTasks(positive, [1, -1]).catch((e: unknown) => (rejected = e))
      assert.instanceOf(rejected, Error)
      assert.include((rejected as Error).message, "must be positive")
    } finally {
      await executor.shutdown()
    }
  })

  it("enqueueTask calls made together are stored together, yet each fails or succeeds on its own", async () => {
    const executor = new PromiseExecutor(createInMemoryStorage())
    const positive = executor.validateInput((n: number) => {
      if (n <= 0) throw new Error("must be positive")
      return n
    }).task({ id: "positive", timeoutMs: 5_000, run: (_ctx, n: number) => n * 10 })
    const plain = executor.task({ id: "plain", timeoutMs: 5_000, run: (_ctx, s: string) => s.toUpperCase() })
    await executor.start()
    try {
      const settled = await Promise.allSettled([
        executor.enqueueTask(positive, 1),
        executor.enqueueTask(positive, -1),
        executor.enqueueTask(plain, "a"),
        executor.enqueueTask(plain, "b", { timeoutMs: 1_234 }),
        executor.enqueueTask(positive, 2)
      ])
      assert.deepStrictEqual(settled.map((s) => s.status), [
        "fulfilled",
        "rejected",
        "fulfilled",
        "fulfilled",
        "fulfilled"
      ])
      const rejected = settled[1] as PromiseRejectedResult
      assert.include((rejected.reason as Error).message, "must be positive")
      const handles = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []))
      const executions = await Promise.all(handles.map((h) => h.waitAndGetExecution()))
      assert.deepStrictEqual(executions.map((e) => e.output), [10, "A", "B", 20])
      assert.deepStrictEqual(executions.map((e) => e.timeoutMs), [5_000, 5_000, 1_234, 5_000])
    } finally {
      await executor.shutdown()
    }
  })

  it("a facade task that outlives its timeout is interrupted and recorded as timed out", async () => {
    const executor = new PromiseExecutor(createInMemoryStorage())
    let aborted = false
    const slow = executor.task({
      id: "slow",
      timeoutMs: 30,
      retryOptions: { maxAttempts: 0 },
      run: (ctx) =>
        new Promise((resolve) => {
          ctx.cancelSignal.addEventListener("abort", () => (aborted = true))
          setTimeout(() => resolve("too late"), 500)
        })
    })
    await executor.start()
    try {
      const execution = await (await executor.enqueueTask(slow, undefined)).waitAndGetExecution()
      assert.strictEqual(execution.status, "timed_out")
      assert.isTrue(aborted)
    } finally {
      await executor.shutdown()
    }
  })

  it("a parent task's children with a validator are validated, and an invalid one fails the parent's run", async () => {
    const executor = new PromiseExecutor(createInMemoryStorage())
    const even = executor.validateInput(async (n: number) => {
      if (n % 2 !== 0) throw new Error("must be even")
      return n
    }).task({ id: "even", timeoutMs: 5_000, run: (_ctx, n: number) => n / 2 })
    const parent = executor.parentTask({
      id: "halves",
      timeoutMs: 5_000,
      retryOptions: { maxAttempts: 0 },
      runParent: (_ctx, ns: ReadonlyArray<number>) => ({
        output: ns.length,
        childrenTasks: ns.map((n) => ({ task: even, input: n }))
      })
    })
    await executor.start()
    try {
      const good = await (await executor.enqueueTask(parent, [2, 4])).waitAndGetExecution()
      assert.strictEqual(good.status, "completed")
      assert.deepStrictEqual(
        (good.output as { childrenOutputs: ReadonlyArray<{ output: unknown }> }).childrenOutputs.map((c) => c.output),
        [1, 2]
      )
      const bad = await (await executor.enqueueTask(parent, [2, 3])).waitAndGetExecution()
      assert.strictEqual(bad.status, "failed")
      assert.include(bad.error?.message ?? "", "must be even")
    } finally {
      await executor.shutdown()
    }
  })

  it(
    "a wait ends with DurableWaitAbortedError when its signal fires, and with not-found for an unknown " +
      "id",
    async () => {
      const executor = new PromiseExecutor(createInMemoryStorage())
      const forever = executor.task({ id: "forever", timeoutMs: 60_000, run: () => new Promise<never>(() => {}) })
      await executor.start()
      try {
        const handle = await executor.enqueueTask(forever, undefined)
        const controller = new AbortController()
        const waiting = handle.waitAndGetExecution({ signal: controller.signal }).catch((e: unknown) => e)
        setTimeout(() => controller.abort(), 20)
        assert.instanceOf(await waiting, DurableWaitAbortedError)
        const aborted = new AbortController()
        aborted.abort()
        assert.instanceOf(
          await handle.waitAndGetExecution({ signal: aborted.signal }).catch((e: unknown) => e),
          DurableWaitAbortedError
        )
        await handle.cancel()
        assert.strictEqual((await handle.waitAndGetExecution()).status, "cancelled")
        const other = executor.task({ id: "other", timeoutMs: 1_000, run: () => 1 })
        const unknown = await executor.getTaskHandle(other, "te_unknown").catch((e: unknown) => e)
        assert.instanceOf(unknown, DurableExecutionNotFoundError)
      } finally {
        await executor.shutdown()
      }
    }
  )

  it("the cancel signal, made on first use, fires when the execution is cancelled", async () => {
    const executor = new PromiseExecutor(createInMemoryStorage())
    let started!: () => void
    const isStarted = new Promise<void>((resolve) => (started = resolve))
    let sawAbort = false
    const watching = executor.task({
      id: "watching",
      timeoutMs: 60_000,
      run: async (ctx) => {
        started()
        await new Promise<void>((resolve) => setTimeout(resolve, 30))
        if (ctx.cancelSignal.aborted) {
          sawAbort = true
          return "aborted before first look"
        }
        await new Promise<void>((resolve) => ctx.cancelSignal.addEventListener("abort", () => resolve()))
        sawAbort = true
        return "aborted"
      }
    })
    await executor.start()
    try {
      const handle = await executor.enqueueTask(watching, undefined)
      await isStarted
      await handle.cancel()
      assert.strictEqual((await handle.waitAndGetExecution()).status, "cancelled")
      await new Promise<void>((resolve) => setTimeout(resolve, 60))
      assert.isTrue(sawAbort)
    } finally {
      await executor.shutdown()
    }
  })
})
