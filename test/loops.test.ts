/**
 * The executor's loops cannot die silently: a defect in a loop's storage call is logged with the
 * loop's name and the loop goes on. Wake-ups come from the one publishing storage decorator, so
 * with a poll interval of an hour, an enqueue is still claimed at once, a finish still wakes its
 * waiter and a cancel still reaches its runner.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as DurableExecutor from "../src/DurableExecutor.js"
import * as MemoryStorage from "../src/MemoryStorage.js"
import * as Signals from "../src/Signals.js"
import * as Task from "../src/Task.js"
import { TaskStorage } from "../src/TaskStorage.js"

interface LogLine {
  readonly level: string
  readonly message: string
  readonly annotations: Record<string, unknown>
}

/** A logger that keeps every line (with its annotations) in `lines`. */
const capture = (lines: Array<LogLine>) =>
  Logger.replace(
    Logger.defaultLogger,
    Logger.make(({ annotations, logLevel, message }) => {
      lines.push({
        level: logLevel.label,
        message: (Array.isArray(message) ? message : [message]).map(String).join(" "),
        annotations: Object.fromEntries(HashMap.toEntries(annotations))
      })
    })
  )

type Op = "claim" | "expire" | "nextWake" | "getMany" | "apply"

/** Memory storage whose `op` dies on its first `defects` calls; counts the calls of every op. */
const dyingStorage = (op: Op, defects: number) => {
  const calls: Record<string, number> = {}
  const inner = MemoryStorage.makeSync()
  const wrapped = Object.fromEntries(
    Object.entries(inner).map(([name, f]) => [
      name,
      (...args: Array<unknown>) =>
        Effect.suspend(() => {
          calls[name] = (calls[name] ?? 0) + 1
          if (name === op && calls[name]! <= defects) return Effect.dieMessage(`injected defect in ${name}`)
          return (f as (...a: Array<unknown>) => Effect.Effect<unknown, unknown>)(...args)
        })
    ])
  ) as unknown as TaskStorage["Type"]
  return { calls, layer: Layer.merge(Layer.succeed(TaskStorage, wrapped), Signals.layerMemory) }
}

const double = Task.make({
  id: "double",
  timeoutMs: 300,
  // A finish lost to a defect leaves its lease to lapse: the retry after that completes it.
  retryOptions: { maxAttempts: 3, baseDelayMs: 1 },
  run: (n: number) => Effect.succeed(n * 2)
})
const slow = Task.make({
  id: "slow",
  timeoutMs: 1_000,
  retryOptions: { maxAttempts: 3, baseDelayMs: 1 },
  run: (ms: number) => Effect.as(Effect.sleep(ms), ms)
})

/** The loop each storage call belongs to, and what it logs when the call dies. */
const loopOf: Record<Op, { readonly loop: string; readonly message: string; readonly level: string }> = {
  claim: { loop: "claim", message: "the claim loop failed", level: "ERROR" },
  nextWake: { loop: "claim", message: "the claim loop failed", level: "ERROR" },
  expire: { loop: "lease expiry", message: "the lease expiry loop failed", level: "ERROR" },
  getMany: { loop: "lease watch", message: "the lease watch loop failed", level: "ERROR" },
  // The batcher fails the batch itself (its executions' leases lapse and they run again), and goes on.
  apply: { loop: "finish batcher", message: "finishing executions failed", level: "WARN" }
}

describe("a defect in a loop's storage call", () => {
  for (const op of ["claim", "nextWake", "expire", "getMany", "apply"] as const) {
    it.live(`in ${op}: is logged with the loop's name, and the executor keeps working`, () => {
      const lines: Array<LogLine> = []
      const storage = dyingStorage(op, 2)
      return Effect.gen(function*() {
        const dx = yield* DurableExecutor.DurableExecutor
        // A slow run first, so that the lease watch has something to look at.
        const slowId = yield* dx.enqueue(slow, 400)
        yield* Effect.sleep(150)
        const ids = yield* Effect.forEach([1, 2, 3], (n) => dx.enqueue(double, n))
        const done = yield* Effect.forEach(ids, (id) => dx.wait(id, { pollIntervalMs: 20 }))
        expect(done.map((e) => [e.status, e.output])).toEqual([["completed", 2], ["completed", 4], ["completed", 6]])
        expect((yield* dx.wait(slowId, { pollIntervalMs: 20 })).status).toBe("completed")
        // The loop went on calling storage after its defects.
        const before = storage.calls[op] ?? 0
        expect(before).toBeGreaterThan(2)
        const expected = loopOf[op]
        const defects = lines.filter((l) => l.message.includes(expected.message))
        expect(defects.length).toBeGreaterThan(0)
        expect(defects[0]!.level).toBe(expected.level)
        expect(defects[0]!.annotations.loop).toBe(expected.loop)
        // A later enqueue is still claimed and run.
        const later = yield* dx.enqueue(double, 21)
        expect((yield* dx.wait(later, { pollIntervalMs: 20 })).output).toBe(42)
      }).pipe(
        Effect.provide(
          DurableExecutor.layer({ tasks: [double, slow], pollIntervalMs: 20, leaseLeewayMs: 0 }).pipe(
            Layer.provide(storage.layer)
          )
        ),
        Effect.provide(capture(lines))
      )
    })
  }
})

describe("wake-ups come from the storage decorator", () => {
  const hourly = { pollIntervalMs: 3_600_000 }

  it.live("an enqueue is claimed and its finish wakes the waiter without any poll", () =>
    Effect.gen(function*() {
      const dx = yield* DurableExecutor.DurableExecutor
      yield* Effect.sleep(50) // the claim loop is asleep on its (hour-long) poll interval now
      const id = yield* dx.enqueue(double, 5)
      const execution = yield* dx.wait(id).pipe(Effect.timeout("3 seconds"))
      expect(execution.output).toBe(10)
    }).pipe(Effect.provide(DurableExecutor.layerMemory({ tasks: [double], ...hourly }))))

  it.live("a cancel reaches the running runner without any poll", () => {
    let interrupted = false
    const forever = Task.make({
      id: "forever",
      timeoutMs: 600_000,
      run: () => Effect.onInterrupt(Effect.never, () => Effect.sync(() => (interrupted = true)))
    })
    return Effect.gen(function*() {
      const dx = yield* DurableExecutor.DurableExecutor
      const id = yield* dx.enqueue(forever, undefined)
      for (let i = 0; i < 100 && (yield* dx.get(id)).status !== "running"; i++) yield* Effect.sleep(10)
      expect((yield* dx.get(id)).status).toBe("running")
      yield* dx.cancel(id)
      for (let i = 0; i < 200 && !interrupted; i++) yield* Effect.sleep(10)
      expect(interrupted).toBe(true)
      expect((yield* dx.get(id)).status).toBe("cancelled")
    }).pipe(Effect.provide(DurableExecutor.layerMemory({ tasks: [forever], ...hourly })))
  })
})

describe("debug logs", () => {
  const flaky = (() => {
    let runs = 0
    return Task.make({
      id: "flaky-debug",
      timeoutMs: 1_000,
      retryOptions: { maxAttempts: 2, baseDelayMs: 1 },
      run: () => (++runs === 1 ? Effect.fail(new Error("boom once")) : Effect.succeed("ok"))
    })
  })()

  it.live("at debug, each claim and each attempt's outcome is logged with execution id, task id and attempt", () => {
    const lines: Array<LogLine> = []
    return Effect.gen(function*() {
      const dx = yield* DurableExecutor.DurableExecutor
      const id = yield* dx.enqueue(flaky, undefined)
      expect((yield* dx.wait(id, { pollIntervalMs: 10 })).status).toBe("completed")
      yield* Effect.sleep(20)
      const mine = lines.filter((l) => l.annotations.executionId === id)
      expect(mine.every((l) => l.level === "DEBUG" && l.annotations.taskId === "flaky-debug")).toBe(true)
      const summary = mine.map((l) => `${l.annotations.attempt}: ${l.message.replace(/ by ex_\S+/, "")}`)
      expect(summary).toEqual([
        "0: durable-tasks: claimed (ready → running)",
        "0: durable-tasks: attempt failed (retryable): boom once",
        "1: durable-tasks: claimed (ready → running)",
        "1: durable-tasks: attempt succeeded (→ completed)"
      ])
    }).pipe(
      Effect.provide(DurableExecutor.layerMemory({ tasks: [flaky], pollIntervalMs: 10 })),
      Effect.provide(Logger.minimumLogLevel(LogLevel.Debug)),
      Effect.provide(capture(lines))
    )
  })

  it.live("at the default level, none of them is logged", () => {
    const lines: Array<LogLine> = []
    return Effect.gen(function*() {
      const dx = yield* DurableExecutor.DurableExecutor
      const id = yield* dx.enqueue(double, 1)
      expect((yield* dx.wait(id)).status).toBe("completed")
      expect(lines.filter((l) => l.message.includes("durable-tasks"))).toEqual([])
    }).pipe(
      Effect.provide(DurableExecutor.layerMemory({ tasks: [double] })),
      Effect.provide(capture(lines))
    )
  })
})
