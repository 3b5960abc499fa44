/**
 * Engine behaviour through the Effect API, with TestClock where timing matters: backoff, retryable
 * and non-retryable failures, timeouts, a crashed executor whose work another executor takes over,
 * and the fence that rejects a stale runner's late result.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import * as DurableExecutor from "../src/DurableExecutor.js"
import type { ExecutionError, TaskSpec } from "../src/ExecutionRow.js"
import { makeReady } from "../src/ExecutionRow.js"
import * as Executor from "../src/Executor.js"
import * as MemoryStorage from "../src/MemoryStorage.js"
import * as RetryOptions from "../src/RetryOptions.js"
import * as Signals from "../src/Signals.js"
import * as Task from "../src/Task.js"
import { TaskStorage } from "../src/TaskStorage.js"
import { settle, waitFor } from "./support/effect.js"

const statusOf = (executionId: string) =>
  Effect.flatMap(DurableExecutor.DurableExecutor, (dx) => Effect.map(dx.get(executionId), (e) => e.status))

const hasStatus = (executionId: string, status: string) => Effect.map(statusOf(executionId), (s) => s === status)

describe("backoff", () => {
  it("delay = min(baseDelayMs × delayMultiplier^retry, maxDelayMs)", () => {
    const options = { maxAttempts: 10, baseDelayMs: 100, delayMultiplier: 3, maxDelayMs: 2_000 }
    expect([0, 1, 2, 3, 4].map((n) => RetryOptions.delayMs(options, n))).toEqual([100, 300, 900, 2_000, 2_000])
    expect(RetryOptions.delayMs({ ...options, delayMultiplier: 1 }, 7)).toBe(100)
  })

  it.effect("a failed run is retried exactly after its backoff delay, not before", () => {
    const runsAt: Array<number> = []
    const flaky = Task.make({
      id: "flaky",
      timeoutMs: 60_000,
      retryOptions: { maxAttempts: 3, baseDelayMs: 1_000, delayMultiplier: 2, maxDelayMs: 1_500 },
      run: () =>
        Effect.flatMap(Clock.currentTimeMillis, (nowMs) => {
          runsAt.push(nowMs)
          return runsAt.length < 3 ? Effect.fail(new Error(`boom ${runsAt.length}`)) : Effect.succeed("ok")
        })
    })
    return Effect.gen(function*() {
      const dx = yield* DurableExecutor.DurableExecutor
      const id = yield* dx.enqueue(flaky, undefined)
      yield* waitFor("first run", Effect.sync(() => runsAt.length === 1))
      yield* waitFor("back to ready after the first failure", hasStatus(id, "ready"))
      const afterFirst = yield* dx.get(id)
      expect(afterFirst.retryAttempts).toBe(1)
      expect(afterFirst.error).toBeUndefined()
      expect(afterFirst.startAt.getTime()).toBe(runsAt[0]! + 1_000) // min(1000 × 2^0, 1500)

      yield* TestClock.adjust(999)
      yield* settle
      expect(runsAt).toHaveLength(1)
      yield* TestClock.adjust(1)
      yield* waitFor("second run", Effect.sync(() => runsAt.length === 2))
      expect(runsAt[1]! - runsAt[0]!).toBe(1_000)

      yield* waitFor("back to ready after the second failure", hasStatus(id, "ready"))
      yield* TestClock.adjust(1_499) // min(1000 × 2^1, 1500) = 1500
      yield* settle
      expect(runsAt).toHaveLength(2)
      yield* TestClock.adjust(1)
      yield* waitFor("completed", hasStatus(id, "completed"))
      expect(runsAt[2]! - runsAt[1]!).toBe(1_500)
      const done = yield* dx.get(id)
      expect(done.output).toBe("ok")
      expect(done.retryAttempts).toBe(2)
    }).pipe(Effect.provide(DurableExecutor.layerMemory({ tasks: [flaky] })))
  })

  it.effect("the run context carries the attempt and the previous error", () => {
    const seen: Array<{ attempt: number; prevError: ExecutionError | undefined }> = []
    const task = Task.make({
      id: "ctx",
      timeoutMs: 1_000,
      retryOptions: { maxAttempts: 1 },
      run: (_: void, info) =>
        Effect.suspend(() => {
          seen.push({ attempt: info.attempt, prevError: info.prevError })
          return info.attempt === 0 ? Effect.fail(new Error("first try fails")) : Effect.succeed(info.attempt)
        })
    })
    return Effect.gen(function*() {
      const dx = yield* DurableExecutor.DurableExecutor
      const id = yield* dx.enqueue(task, undefined)
      yield* waitFor("completed", hasStatus(id, "completed"))
      expect(seen).toEqual([
        { attempt: 0, prevError: undefined },
        { attempt: 1, prevError: { errorType: "generic", message: "first try fails", isRetryable: true } }
      ])
    }).pipe(Effect.provide(DurableExecutor.layerMemory({ tasks: [task] })))
  })
})

describe("Schema codecs", () => {
  it.effect("inputs and outputs are stored encoded and decoded with the task's Schemas", () => {
    const received: Array<unknown> = []
    const task = Task.make({
      id: "dates",
      timeoutMs: 1_000,
      input: Schema.Struct({ at: Schema.DateFromString }),
      output: Schema.Struct({ next: Schema.DateFromString, big: Schema.BigInt }),
      run: ({ at }) =>
        Effect.sync(() => {
          received.push(at)
          return { next: new Date(at.getTime() + 86_400_000), big: 2n ** 70n }
        })
    })
    return Effect.gen(function*() {
      const dx = yield* DurableExecutor.DurableExecutor
      const id = yield* dx.enqueue(task, { at: new Date("2024-01-01T00:00:00.000Z") })
      const done = yield* dx.wait(id)
      expect(received[0]).toBeInstanceOf(Date)
      expect(done.runInput).toEqual({ at: new Date("2024-01-01T00:00:00.000Z") })
      expect(done.output).toEqual({ next: new Date("2024-01-02T00:00:00.000Z"), big: 2n ** 70n })
    }).pipe(Effect.provide(DurableExecutor.layerMemory({ tasks: [task] })))
  })
})

describe("non-retryable errors", () => {
  it.effect("TaskRunError with isRetryable false fails at once despite retries left", () => {
    let runs = 0
    const task = Task.make({
      id: "fatal",
      timeoutMs: 1_000,
      retryOptions: { maxAttempts: 5 },
      run: () =>
        Effect.suspend(() => {
          runs++
          return Effect.fail(new Task.TaskRunError({ message: "bad request", isRetryable: false }))
        })
    })
    return Effect.gen(function*() {
      const dx = yield* DurableExecutor.DurableExecutor
      const id = yield* dx.enqueue(task, undefined)
      const done = yield* dx.wait(id)
      expect(done.status).toBe("failed")
      expect(done.error).toEqual({ errorType: "generic", message: "bad request", isRetryable: false })
      expect(done.retryAttempts).toBe(0)
      expect(runs).toBe(1)
    }).pipe(Effect.provide(DurableExecutor.layerMemory({ tasks: [task] })))
  })

  it.effect("TaskRunError with isRetryable true is retried until attempts run out", () => {
    let runs = 0
    const task = Task.make({
      id: "transient",
      timeoutMs: 1_000,
      retryOptions: { maxAttempts: 2 },
      run: () =>
        Effect.suspend(() => {
          runs++
          return Effect.fail(new Task.TaskRunError({ message: "try again", isRetryable: true }))
        })
    })
    return Effect.gen(function*() {
      const dx = yield* DurableExecutor.DurableExecutor
      const id = yield* dx.enqueue(task, undefined)
      const done = yield* dx.wait(id)
      expect(done.status).toBe("failed")
      expect(done.error?.message).toBe("try again")
      expect(done.retryAttempts).toBe(2)
      expect(runs).toBe(3) // maxAttempts counts retries: 2 means up to 3 runs
    }).pipe(Effect.provide(DurableExecutor.layerMemory({ tasks: [task] })))
  })
})

describe("timeouts", () => {
  it.effect("a run past timeoutMs ends timed_out, not before", () => {
    let interrupted = false
    const task = Task.make({
      id: "slow",
      timeoutMs: 1_000,
      run: () => Effect.onInterrupt(Effect.never, () => Effect.sync(() => (interrupted = true)))
    })
    return Effect.gen(function*() {
      const dx = yield* DurableExecutor.DurableExecutor
      const id = yield* dx.enqueue(task, undefined)
      yield* waitFor("running", hasStatus(id, "running"))
      yield* TestClock.adjust(999)
      yield* settle
      expect(yield* statusOf(id)).toBe("running")
      yield* TestClock.adjust(1)
      yield* waitFor("timed out", hasStatus(id, "timed_out"))
      const done = yield* dx.get(id)
      expect(done.error?.errorType).toBe("timed_out")
      expect(done.error?.message).toContain("timed out after 1000ms")
      expect(interrupted).toBe(true)
    }).pipe(Effect.provide(DurableExecutor.layerMemory({ tasks: [task] })))
  })

  it.effect("a timed-out run is retried while attempts are left", () => {
    let runs = 0
    const task = Task.make({
      id: "slowThenFast",
      timeoutMs: 1_000,
      retryOptions: { maxAttempts: 1, baseDelayMs: 500 },
      run: () => Effect.suspend(() => ++runs === 1 ? Effect.never : Effect.succeed("fast"))
    })
    return Effect.gen(function*() {
      const dx = yield* DurableExecutor.DurableExecutor
      const id = yield* dx.enqueue(task, undefined)
      yield* waitFor("running", hasStatus(id, "running"))
      yield* TestClock.adjust(1_000)
      yield* waitFor("ready again", hasStatus(id, "ready"))
      expect((yield* dx.get(id)).startAt.getTime()).toBe(1_500)
      yield* TestClock.adjust(500)
      yield* waitFor("completed", hasStatus(id, "completed"))
      expect((yield* dx.get(id)).output).toBe("fast")
      expect(runs).toBe(2)
    }).pipe(Effect.provide(DurableExecutor.layerMemory({ tasks: [task] })))
  })
})

describe("crash", () => {
  it.effect("a killed executor's run is taken over by a second executor after the lease lapses", () => {
    const starts: Array<{ attempt: number; prevError: string | undefined }> = []
    const task = Task.make({
      id: "resilient",
      timeoutMs: 5_000,
      retryOptions: { maxAttempts: 1 },
      run: (_: void, info) =>
        Effect.suspend(() => {
          starts.push({ attempt: info.attempt, prevError: info.prevError?.message })
          return info.attempt === 0 ? Effect.never : Effect.succeed("recovered")
        })
    })
    return Effect.gen(function*() {
      // One storage and one signal hub shared by two executors, as two processes share a database.
      const storage = MemoryStorage.makeSync()
      const hub = Signals.makeHub().service
      const shared = Layer.merge(Layer.succeed(TaskStorage, storage), Layer.succeed(Signals.Signals, hub))
      const executorLayer = (executorId: string) =>
        DurableExecutor.layer({ tasks: [task], executorId, leaseLeewayMs: 1_000 }).pipe(Layer.provide(shared))

      const scopeA = yield* Scope.make()
      const a = yield* Layer.buildWithScope(executorLayer("exA"), scopeA)
      const dxA = Context.get(a, DurableExecutor.DurableExecutor)
      const id = yield* dxA.enqueue(task, undefined)
      yield* waitFor("A started the run", Effect.sync(() => starts.length === 1))
      const claimed = (yield* storage.get(id))!
      expect(claimed.status).toBe("running")
      expect(claimed.executorId).toBe("exA")
      expect(claimed.expiresAt).toBe(6_000) // claimed at 0: timeoutMs 5000 + leeway 1000

      yield* Context.get(a, Executor.Executor).kill
      yield* settle
      const afterKill = (yield* storage.get(id))!
      expect(afterKill).toEqual(claimed) // a crash writes nothing

      const scopeB = yield* Scope.make()
      const b = yield* Layer.buildWithScope(executorLayer("exB"), scopeB)
      const dxB = Context.get(b, DurableExecutor.DurableExecutor)
      yield* TestClock.adjust(5_999)
      yield* settle
      expect(starts).toHaveLength(1)
      expect((yield* storage.get(id))!.executorId).toBe("exA")

      yield* TestClock.adjust(2) // past expiresAt: B's expiry loop returns it to ready, B claims it
      yield* waitFor("completed by B", Effect.map(dxB.get(id), (e) => e.status === "completed"))
      const done = yield* dxB.get(id)
      expect(done.output).toBe("recovered")
      expect(done.retryAttempts).toBe(1) // the lapsed lease counted as an attempt
      expect(starts).toHaveLength(2)
      expect(starts[1]!.attempt).toBe(1)
      expect(starts[1]!.prevError).toContain("lease expired")

      yield* Scope.close(scopeB, Exit.void)
      yield* Scope.close(scopeA, Exit.void)
    })
  })
})

describe("fencing", () => {
  const spec: TaskSpec = {
    taskId: "t",
    timeoutMs: 1_000,
    retry: { maxAttempts: 2, baseDelayMs: 0, delayMultiplier: 1, maxDelayMs: 0 },
    sleepMsBeforeRun: 0
  }
  const claim = (storage: TaskStorage["Type"], nowMs: number, claimId: string) =>
    storage.claim({ nowMs, limit: 1, taskIds: new Set(["t"]), executorId: claimId, claimId, leaseLeewayMs: 100 })

  it.effect("a stale runner's late result is rejected and leaves the stored execution unchanged", () =>
    Effect.gen(function*() {
      const storage = yield* MemoryStorage.make
      yield* storage.insert([makeReady({ spec, executionId: "e1", input: "1", nowMs: 0 })])
      const [first] = yield* claim(storage, 0, "c1")
      assert.strictEqual(first?.leaseId, "c1:e1")
      assert.strictEqual(first?.expiresAt, 1_100)

      const expired = yield* storage.expire({ nowMs: 1_101, limit: 10 })
      expect(expired.results).toEqual([{ _tag: "Applied" }])
      expect((yield* storage.get("e1"))?.status).toBe("ready")
      const [second] = yield* claim(storage, 1_101, "c2")
      assert.strictEqual(second?.leaseId, "c2:e1")

      const before = yield* storage.get("e1")
      const late = yield* storage.apply([{
        executionId: "e1",
        event: {
          _tag: "RunSucceeded",
          nowMs: 1_200,
          leaseId: "c1:e1",
          runOutput: "\"late\"",
          children: [],
          finalize: null
        }
      }])
      expect(late.results[0]?._tag).toBe("Rejected")
      expect(late.results[0]).toMatchObject({ reason: "stale_lease" })
      expect(late.changes).toEqual({ finished: [], cancelledRunning: [], readyAtMs: null })
      const lateFailure = yield* storage.apply([{
        executionId: "e1",
        event: {
          _tag: "RunFailed",
          nowMs: 1_200,
          leaseId: "c1:e1",
          timedOut: false,
          error: { errorType: "generic", message: "late", isRetryable: false }
        }
      }])
      expect(lateFailure.results[0]).toMatchObject({ _tag: "Rejected", reason: "stale_lease" })
      expect(yield* storage.get("e1")).toEqual(before)
      expect(yield* storage.list({ limit: 10 })).toHaveLength(1)

      // The current lease's result is accepted.
      const current = yield* storage.apply([{
        executionId: "e1",
        event: {
          _tag: "RunSucceeded",
          nowMs: 1_300,
          leaseId: "c2:e1",
          runOutput: "\"fresh\"",
          children: [],
          finalize: null
        }
      }])
      expect(current.results).toEqual([{ _tag: "Applied" }])
      const after = yield* storage.get("e1")
      expect(after?.status).toBe("completed")
      expect(after?.output).toBe("\"fresh\"")
      expect(after?.retryAttempts).toBe(1)
    }))
})
