/**
 * SQL storage behaviour on real databases (SQLite temp files, the test Postgres server):
 * options, migrations under concurrent start-up, lossless values, disjoint claims across clients,
 * enqueue inside the app's own transaction, kill-and-resume, and cross-process wake-ups and cancels.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import * as DurableExecutor from "../src/DurableExecutor.js"
import { makeReady } from "../src/ExecutionRow.js"
import { createPostgresStorage, createSqliteStorage, DurableExecutorOptionsError } from "../src/index.js"
import { MIGRATIONS } from "../src/internal/sql/Migrations.js"
import * as PgStorage from "../src/PgStorage.js"
import type * as Signals from "../src/Signals.js"
import * as SqliteStorage from "../src/SqliteStorage.js"
import * as SqlStorage from "../src/SqlStorage.js"
import * as Task from "../src/Task.js"
import { TaskStorage } from "../src/TaskStorage.js"
import { databaseUrl, pgClient, schemasDroppedAfterAll, tempDir } from "./support/sql.js"

const newSchema = schemasDroppedAfterAll()

const spec = (taskId: string) => ({
  taskId,
  timeoutMs: 1_000,
  retry: { maxAttempts: 0, baseDelayMs: 0, delayMultiplier: 1, maxDelayMs: 0 },
  sleepMsBeforeRun: 0
})

describe("options", () => {
  it("rejects table prefixes and schemas that are not plain identifiers", async () => {
    for (
      const bad of [{ tablePrefix: `x"; DROP TABLE y; --` }, { tablePrefix: "1abc" }, { schema: "a-b" }, { schema: "" }]
    ) {
      expect(SqlStorage.validate(bad)).toBeDefined()
      const exit = await Effect.runPromiseExit(SqlStorage.make(bad).pipe(Effect.scoped, Effect.provide(pgClient(1))))
      expect(Exit.isFailure(exit) && JSON.stringify(exit.cause)).toContain("invalid SQL storage options")
    }
    expect(SqlStorage.validate({ tablePrefix: "" })).toBeUndefined()
    expect(SqlStorage.validate({ tablePrefix: "My_app_", schema: "jobs" })).toBeUndefined()
  })

  it("the facade throws its own error for bad storage options", () => {
    expect(() => createSqliteStorage({ filename: "" })).toThrow(DurableExecutorOptionsError)
    expect(() => createSqliteStorage({ filename: "x.db", busyTimeoutMs: -1 })).toThrow(/busyTimeoutMs/)
    expect(() => createPostgresStorage({ connectionString: databaseUrl(), tablePrefix: "bad prefix" })).toThrow(
      /tablePrefix/
    )
    expect(() => createPostgresStorage({} as never)).toThrow(/connectionString/)
  })
})

describe("migrations", () => {
  it("Postgres: many storages starting at once on one schema all succeed, and migrate once", async () => {
    const schema = newSchema("migrate")
    const start = SqlStorage.make({ schema }).pipe(Effect.scoped, Effect.provide(pgClient(2)))
    await Effect.runPromise(Effect.all(Array.from({ length: 6 }, () => start), { concurrency: "unbounded" }))
    const versions = await Effect.runPromise(
      Effect.flatMap(
        SqlClient.SqlClient,
        (sql) => sql.unsafe(`SELECT version FROM "${schema}"."durable_tasks_migrations" ORDER BY version`)
      ).pipe(
        Effect.provide(pgClient(1))
      )
    )
    // Each migration once.
    expect(versions).toEqual(Object.keys(MIGRATIONS).map((key) => ({ version: Number(key.slice(0, 4)) })))
  })

  it("SQLite: clients on one file starting at once all succeed, and see each other's rows", async () => {
    const tmp = tempDir()
    try {
      const filename = path.join(tmp.dir, "m.db")
      const storage = (i: number) =>
        Effect.gen(function*() {
          const s = yield* TaskStorage
          yield* s.insert([makeReady({ spec: spec("t"), executionId: `e${i}`, input: null, nowMs: 1 })])
          return (yield* s.list({ limit: 100 })).length
        }).pipe(Effect.provide(SqliteStorage.layer({ filename })))
      const counts = await Effect.runPromise(Effect.all([0, 1, 2, 3].map(storage), { concurrency: "unbounded" }))
      expect(counts.length).toBe(4)
      const all = await Effect.runPromise(
        Effect.flatMap(TaskStorage, (s) => s.list({ limit: 100 })).pipe(
          Effect.provide(SqliteStorage.layer({ filename }))
        )
      )
      expect(all.map((r) => r.executionId).sort()).toEqual(["e0", "e1", "e2", "e3"])
    } finally {
      tmp.remove()
    }
  })
})

describe("claims across clients (Postgres)", () => {
  it("two pools claiming at once never claim the same execution, and together claim all", async () => {
    const schema = newSchema("claims")
    const layerA = SqlStorage.layer({ schema }).pipe(Layer.provide(pgClient(4)))
    const layerB = SqlStorage.layer({ schema }).pipe(Layer.provide(pgClient(4)))
    const n = 300
    await Effect.runPromise(
      Effect.flatMap(
        TaskStorage,
        (s) =>
          s.insert(
            Array.from({ length: n }, (_, i) =>
              makeReady({ spec: spec("t"), executionId: `e${i}`, input: `${i}`, nowMs: i }))
          )
      ).pipe(
        Effect.provide(layerA)
      )
    )
    const claimAll = (name: string) =>
      Effect.gen(function*() {
        const s = yield* TaskStorage
        const ids: Array<string> = []
        for (let round = 0;; round++) {
          const rows = yield* s.claim({
            nowMs: 10_000,
            limit: 7,
            taskIds: new Set(["t"]),
            executorId: name,
            claimId: `${name}${round}`,
            leaseLeewayMs: 0
          })
          if (rows.length === 0) return ids
          ids.push(...rows.map((r) => r.executionId))
        }
      })
    const [a, b] = await Effect.runPromise(
      Effect.all([claimAll("a").pipe(Effect.provide(layerA)), claimAll("b").pipe(Effect.provide(layerB))], {
        concurrency: 2
      })
    )
    expect(a.length).toBeGreaterThan(0)
    expect(b.length).toBeGreaterThan(0)
    expect(new Set([...a, ...b]).size).toBe(a.length + b.length)
    expect(a.length + b.length).toBe(n)
  })
})

describe("group commit (SQLite)", () => {
  it("concurrent transactions share commits, and one that fails rolls back alone", async () => {
    const tmp = tempDir()
    try {
      const program = Effect.gen(function*() {
        const s = yield* TaskStorage
        yield* s.insert([makeReady({ spec: spec("t"), executionId: "taken", input: null, nowMs: 1 })])
        const results = yield* Effect.all(
          Array.from({ length: 40 }, (_, i) =>
            Effect.either(s.insert([
              makeReady({ spec: spec("t"), executionId: `new${i}`, input: `${i}`, nowMs: 2 }),
              ...(i === 17 ? [makeReady({ spec: spec("t"), executionId: "taken", input: null, nowMs: 2 })] : [])
            ]))),
          { concurrency: "unbounded" }
        )
        const stored = yield* s.list({ limit: 100 })
        return {
          failed: results.flatMap((r, i) => (r._tag === "Left" ? [[i, r.left._tag]] : [])),
          stored: stored.map((r) => r.executionId)
        }
      }).pipe(Effect.provide(SqliteStorage.layer({ filename: path.join(tmp.dir, "g.db") })))
      const r = await Effect.runPromise(program)
      expect(r.failed).toEqual([[17, "DuplicateExecution"]])
      expect(r.stored.length).toBe(40)
      expect(r.stored).not.toContain("new17")
    } finally {
      tmp.remove()
    }
  })
})

describe("values", () => {
  const Payload = Schema.Struct({
    at: Schema.Date,
    big: Schema.BigInt,
    text: Schema.String,
    list: Schema.Array(Schema.Number)
  })
  const echo = Task.make({
    id: "echo",
    timeoutMs: 5_000,
    input: Payload,
    output: Payload,
    run: (input) => Effect.succeed(input)
  })
  const roundTrip = (storage: Layer.Layer<TaskStorage | Signals.Signals, unknown>) =>
    Effect.gen(function*() {
      const executor = yield* DurableExecutor.DurableExecutor
      const value = {
        at: new Date(1_700_000_000_123),
        big: 12345678901234567890123n,
        text: "quote \" backslash \\ unicode ☃ 𝄞 nul-free \u0001 lone \ud800 end",
        list: [0.1, -0, 1e300, 5]
      }
      const id = yield* executor.enqueue(echo, value)
      const done = yield* executor.wait(id, { pollIntervalMs: 50 })
      const big = "x".repeat(900_000)
      const bigId = yield* executor.enqueue(echo, { ...value, text: big })
      const bigDone = yield* executor.wait(bigId, { pollIntervalMs: 50 })
      const tooBig = yield* Effect.flip(executor.enqueue(echo, { ...value, text: "y".repeat(1_100_000) }))
      return { value, done, bigDone, tooBig }
    }).pipe(Effect.provide(DurableExecutor.layer({ tasks: [echo], pollIntervalMs: 100 }).pipe(Layer.provide(storage))))

  const check = (r: Effect.Effect.Success<ReturnType<typeof roundTrip>>) => {
    expect(r.done.status).toBe("completed")
    expect(r.done.output).toEqual({ ...r.value, list: [0.1, 0, 1e300, 5] })
    expect((r.done.output as typeof r.value).big).toBe(r.value.big)
    expect((r.bigDone.output as typeof r.value).text.length).toBe(900_000)
    expect(r.tooBig._tag).toBe("UnstorableValue")
    expect(r.tooBig.message).toMatch(/over the limit of 1048576 bytes/)
  }

  it(
    "round-trip losslessly through SQLite (Schema types, unicode, 900 kB), and too big a value is " +
      "refused",
    async () => {
      const tmp = tempDir()
      try {
        check(await Effect.runPromise(roundTrip(SqliteStorage.layer({ filename: path.join(tmp.dir, "v.db") }))))
      } finally {
        tmp.remove()
      }
    }
  )

  it("round-trip losslessly through Postgres", async () => {
    check(
      await Effect.runPromise(
        roundTrip(PgStorage.layer({ connectionString: databaseUrl(), schema: newSchema("values") }))
      )
    )
  })
})
