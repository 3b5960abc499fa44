/**
 * The Effect API's enqueue options (`idempotencyKey`, `delay`, `startAt`) under TestClock on memory,
 * and concurrent keyed enqueues, each its own transaction, on SQLite and Postgres.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/TestClock"
import * as path from "node:path"
import * as DurableExecutor from "../src/DurableExecutor.js"
import * as MemoryStorage from "../src/MemoryStorage.js"
import * as PgStorage from "../src/PgStorage.js"
import * as Signals from "../src/Signals.js"
import * as SqliteStorage from "../src/SqliteStorage.js"
import * as Task from "../src/Task.js"
import { TaskStorage } from "../src/TaskStorage.js"
import { waitFor } from "./support/effect.js"
import { databaseUrl, schemasDroppedAfterAll, tempDir } from "./support/sql.js"

const newSchema = schemasDroppedAfterAll()

const startedAt: Array<number> = []
const stamp = Task.make({
  id: "stamp",
  timeoutMs: 60_000,
  sleepMsBeforeRun: 1_000,
  run: (n: number) =>
    Effect.map(Clock.currentTimeMillis, (nowMs) => {
      startedAt.push(nowMs)
      return n
    })
})

/** The executor with its memory storage, which the tests read too. */
const memory = () =>
  DurableExecutor.layer({ tasks: [stamp] }).pipe(
    Layer.provideMerge(Layer.merge(MemoryStorage.layer, Signals.layerMemory))
  )

const statusOf = (id: string) =>
  Effect.flatMap(DurableExecutor.DurableExecutor, (dx) => Effect.map(dx.get(id), (e) => e.status))

describe("Effect API enqueue options (memory, TestClock)", () => {
  it.effect("delay overrides sleepMsBeforeRun: the run starts at enqueue + delay, not before", () =>
    Effect.gen(function*() {
      startedAt.length = 0
      const dx = yield* DurableExecutor.DurableExecutor
      const t0 = yield* Clock.currentTimeMillis
      const id = yield* dx.enqueue(stamp, 1, { delay: "10 seconds" })
      const row = yield* dx.get(id)
      expect(row.startAt.getTime()).toBe(t0 + 10_000)
      expect(row.sleepMsBeforeRun).toBe(10_000)
      yield* TestClock.adjust(9_999)
      expect(yield* statusOf(id)).toBe("ready")
      yield* TestClock.adjust(1)
      yield* waitFor("the delayed run", Effect.map(statusOf(id), (s) => s === "completed"))
      expect(startedAt).toEqual([t0 + 10_000])
      // A number is milliseconds; a zero delay runs at once, ahead of the task's own sleep.
      const now = yield* Clock.currentTimeMillis
      const soon = yield* dx.enqueue(stamp, 2, { delay: 0 })
      expect((yield* dx.get(soon)).startAt.getTime()).toBe(now)
      const ms = yield* dx.enqueue(stamp, 3, { delayMs: 2_500 })
      expect((yield* dx.get(ms)).startAt.getTime()).toBe(now + 2_500)
    }).pipe(Effect.provide(memory())))

  it.effect("startAt: the first run waits for it; a time in the past starts at once", () =>
    Effect.gen(function*() {
      startedAt.length = 0
      const dx = yield* DurableExecutor.DurableExecutor
      const t0 = yield* Clock.currentTimeMillis
      const at = new Date(t0 + 60_000)
      const later = yield* dx.enqueue(stamp, 1, { startAt: at })
      const past = yield* dx.enqueue(stamp, 2, { startAt: new Date(t0 - 5_000) })
      expect((yield* dx.get(past)).startAt.getTime()).toBe(t0)
      yield* TestClock.adjust(0)
      yield* waitFor("the past start", Effect.map(statusOf(past), (s) => s === "completed"))
      yield* TestClock.adjust(59_999)
      expect(yield* statusOf(later)).toBe("ready")
      yield* TestClock.adjust(1)
      yield* waitFor("the scheduled run", Effect.map(statusOf(later), (s) => s === "completed"))
      expect(startedAt).toEqual([t0, t0 + 60_000])
    }).pipe(Effect.provide(memory())))

  it.effect("idempotencyKey: the same id every time, for every status; enqueueMany keys per input", () =>
    Effect.gen(function*() {
      const dx = yield* DurableExecutor.DurableExecutor
      const first = yield* dx.enqueue(stamp, 1, { idempotencyKey: "k", delay: "1 minute" })
      expect(yield* dx.enqueue(stamp, 2, { idempotencyKey: "k" })).toBe(first)
      yield* dx.cancel(first)
      expect(yield* dx.enqueue(stamp, 3, { idempotencyKey: "k" })).toBe(first)
      const many = yield* dx.enqueueMany(stamp, [1, 2, 1], { idempotencyKey: (n) => `n${n}` })
      expect(many[0]).toBe(many[2])
      expect(many[1]).not.toBe(many[0])
      const batch = yield* dx.enqueueBatch([
        { task: stamp, input: 9, options: { idempotencyKey: "k" } },
        { task: stamp, input: 9, options: { idempotencyKey: "n2" } }
      ])
      expect(batch.map((e) => e._tag === "Right" && e.right)).toEqual([first, many[1]])
      const storage = yield* TaskStorage
      expect(yield* storage.list({ limit: 100 })).toHaveLength(3)
    }).pipe(Effect.provide(memory())))

  it.effect("refused: two start times, negative or NaN delays, invalid Dates, typed InvalidTaskDefinition", () =>
    Effect.gen(function*() {
      const dx = yield* DurableExecutor.DurableExecutor
      const cases: ReadonlyArray<readonly [DurableExecutor.EnqueueOptions, string]> = [
        [{ delay: "1 second", startAt: new Date() }, "give at most one of delay, startAt"],
        [{ delayMs: 5, sleepMsBeforeRun: 5 }, "give at most one of sleepMsBeforeRun, delayMs"],
        [{ delayMs: -1 }, "delayMs must be a number from 0 to 3155760000000, got -1"],
        [{ delayMs: Number.NaN }, "delayMs must be a number from 0 to 3155760000000, got NaN"],
        [{ delay: -5 }, "delay must be a number from 0"],
        [{ delay: "-5 seconds" }, "delay must be a finite, non-negative Duration"],
        [{ delay: "soon" as never }, "delay must be a finite, non-negative Duration (e.g. \"5 seconds\"), got string"],
        [{ delay: "Infinity" as never }, "delay must be a finite"],
        [{ startAt: new Date(Number.NaN) }, "startAt must be a valid Date, got object"],
        [{ startAt: 1_000 as never }, "startAt must be a valid Date, got number 1000"]
      ]
      for (const [options, message] of cases) {
        const error = yield* Effect.flip(dx.enqueue(stamp, 1, options))
        expect(error._tag).toBe("InvalidTaskDefinition")
        expect(error.message).toContain(`enqueue options of task 'stamp': ${message}`)
      }
      const storage = yield* TaskStorage
      expect(yield* storage.list({ limit: 100 })).toEqual([])
    }).pipe(Effect.provide(memory())))
})

/** 20 enqueues with one key at once, each its own call (and transaction), then the stored rows. */
const twentyAtOnce = (storage: Layer.Layer<TaskStorage | Signals.Signals, unknown>) =>
  Effect.gen(function*() {
    const dx = yield* DurableExecutor.DurableExecutor
    const ids = yield* Effect.all(
      Array.from({ length: 20 }, (_, i) => dx.enqueue(stamp, i, { idempotencyKey: "once", delay: "1 hour" })),
      { concurrency: "unbounded" }
    )
    const rows = yield* Effect.flatMap(TaskStorage, (s) => s.list({ limit: 100 }))
    return { ids: new Set(ids), rows }
  }).pipe(Effect.provide(DurableExecutor.layer({ tasks: [stamp] }).pipe(Layer.provideMerge(storage))), Effect.scoped)

describe("concurrent keyed enqueues on SQL", () => {
  it.live("SQLite: 20 at once store one execution", () => {
    const tmp = tempDir()
    return Effect.gen(function*() {
      const { ids, rows } = yield* twentyAtOnce(SqliteStorage.layer({ filename: path.join(tmp.dir, "k.db") }))
      expect(ids.size).toBe(1)
      expect(rows.map((r) => r.executionId)).toEqual([...ids])
    }).pipe(Effect.ensuring(Effect.sync(tmp.remove)))
  }, 30_000)

  it.live("Postgres: 20 at once on a pool of 8 store one execution", () =>
    Effect.gen(function*() {
      const layer = PgStorage.layer({ connectionString: databaseUrl(), schema: newSchema("keys"), maxConnections: 8 })
      const { ids, rows } = yield* twentyAtOnce(layer)
      expect(ids.size).toBe(1)
      expect(rows.map((r) => r.executionId)).toEqual([...ids])
    }), 30_000)
})
