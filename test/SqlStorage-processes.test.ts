/**
 * SQL storage with the app's own client, across processes: an app transaction, kill and resume on a SQLite
 * file, LISTEN/NOTIFY wake-ups and cancels across Postgres processes, and PgSignals reconnecting.
 */
import * as PgClient from "@effect/sql-pg/PgClient"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import * as DurableExecutor from "../src/DurableExecutor.js"
import * as Executor from "../src/Executor.js"
import * as ExecutorConfig from "../src/ExecutorConfig.js"
import * as Ids from "../src/Ids.js"
import * as PgSignals from "../src/PgSignals.js"
import * as PgStorage from "../src/PgStorage.js"
import * as Registry from "../src/Registry.js"
import * as Signals from "../src/Signals.js"
import * as SqliteStorage from "../src/SqliteStorage.js"
import * as SqlStorage from "../src/SqlStorage.js"
import * as Task from "../src/Task.js"
import { TaskStorage } from "../src/TaskStorage.js"
import { databaseUrl, schemasDroppedAfterAll, tempDir, uniqueName } from "./support/sql.js"

const newSchema = schemasDroppedAfterAll()

describe("the app's own client and transaction", () => {
  it("SQLite: an enqueue inside the app's transaction is rolled back with it, or committed with it", async () => {
    const tmp = tempDir()
    try {
      const work = Task.make({ id: "work", timeoutMs: 1_000, run: (n: number) => Effect.succeed(n + 1) })
      const program = Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const executor = yield* DurableExecutor.DurableExecutor
        yield* sql.unsafe("CREATE TABLE orders (id INTEGER PRIMARY KEY)")
        const rolledBack = yield* sql.withTransaction(Effect.gen(function*() {
          yield* sql.unsafe("INSERT INTO orders (id) VALUES (1)")
          const id = yield* executor.enqueue(work, 1)
          return yield* Effect.fail({ _tag: "Abort" as const, id })
        })).pipe(Effect.flip, Effect.flatMap((e) => (e._tag === "Abort" ? Effect.succeed(e) : Effect.die(e))))
        const committed = yield* sql.withTransaction(Effect.gen(function*() {
          yield* sql.unsafe("INSERT INTO orders (id) VALUES (2)")
          return yield* executor.enqueue(work, 2)
        }))
        const gone = yield* Effect.flip(executor.get(rolledBack.id))
        const done = yield* executor.wait(committed, { pollIntervalMs: 50 })
        const orders = yield* sql.unsafe<{ id: number }>("SELECT id FROM orders")
        return { gone, done, orders }
      })
      const client = SqliteClient.layer({ filename: path.join(tmp.dir, "app.db") })
      const layer = DurableExecutor.layer({ tasks: [work], pollIntervalMs: 100 }).pipe(
        Layer.provideMerge(Layer.merge(SqlStorage.layer(), Signals.layerMemory)),
        Layer.provideMerge(client)
      )
      const r = await Effect.runPromise(program.pipe(Effect.provide(layer)))
      expect(r.gone._tag).toBe("ExecutionNotFound")
      expect(r.done.output).toBe(3)
      expect(r.orders).toEqual([{ id: 2 }])
    } finally {
      tmp.remove()
    }
  })
})

describe("kill and resume (SQLite file)", () => {
  it("an execution held by a killed executor is finished by a new one after its lease lapses", async () => {
    const tmp = tempDir()
    try {
      const filename = path.join(tmp.dir, "resume.db")
      let runs = 0
      const slow = Task.make({
        id: "slow",
        timeoutMs: 300,
        retryOptions: { maxAttempts: 1 },
        run: (n: number) =>
          Effect.gen(function*() {
            runs++
            if (runs === 1) yield* Effect.never
            return n * 10
          })
      })
      const storage = SqliteStorage.layer({ filename })
      const settings = { tasks: [slow], pollIntervalMs: 50, leaseLeewayMs: 200 }
      // First "process": enqueue, start running, then die without writing anything.
      const id = await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
        const ctx = yield* Layer.build(DurableExecutor.layer(settings).pipe(Layer.provide(storage)))
        const id = yield* Context.get(ctx, DurableExecutor.DurableExecutor).enqueue(slow, 4)
        while (runs === 0) yield* Effect.sleep(10)
        yield* Context.get(ctx, Executor.Executor).kill
        return id
      })))
      const before = await Effect.runPromise(
        Effect.flatMap(TaskStorage, (s) => s.get(id)).pipe(Effect.provide(storage))
      )
      expect(before?.status).toBe("running")
      // Second "process" on the same file.
      const after = await Effect.runPromise(
        Effect.flatMap(DurableExecutor.DurableExecutor, (e) => e.wait(id, { pollIntervalMs: 50 })).pipe(
          Effect.provide(DurableExecutor.layer(settings).pipe(Layer.provide(storage)))
        )
      )
      expect(after.status).toBe("completed")
      expect(after.output).toBe(40)
      expect(after.retryAttempts).toBe(1) // the lapsed lease counted as an attempt
      expect(runs).toBe(2)
    } finally {
      tmp.remove()
    }
  })
})

describe("wake-ups across processes (Postgres LISTEN/NOTIFY)", () => {
  it(
    "an enqueue in one process starts at once in another, its finish wakes the first, and a cancel interrupts " +
      "the runner",
    async () => {
      const schema = newSchema("signals")
      const started: Array<number> = []
      let interrupted = false
      const quick = Task.make({
        id: "quick",
        timeoutMs: 5_000,
        run: (n: number) => Effect.sync(() => (started.push(n), n + 1))
      })
      const blocking = Task.make({
        id: "blocking",
        timeoutMs: 30_000,
        run: () => Effect.never.pipe(Effect.onInterrupt(() => Effect.sync(() => (interrupted = true))))
      })
      // Polling every minute: anything faster than that came through LISTEN/NOTIFY.
      const slowPolling = { pollIntervalMs: 60_000 }
      const producerStorage = PgStorage.layer({ connectionString: databaseUrl(), schema, maxConnections: 2 })
      const workerStorage = PgStorage.layer({ connectionString: databaseUrl(), schema, maxConnections: 2 })
      const program = Effect.gen(function*() {
        const scope = yield* Scope.make()
        // The worker process: an executor that runs the tasks.
        yield* Layer.buildWithScope(
          DurableExecutor.layer({ tasks: [quick, blocking], ...slowPolling }).pipe(Layer.provide(workerStorage)),
          scope
        )
        // The producer process: a client only, no executor.
        const producer = yield* DurableExecutor.makeClient(Effect.succeed(false))
        const t0 = Date.now()
        const id = yield* producer.enqueue(quick, 41)
        // Without cross-process wake-ups this would take the 60 s poll interval.
        const done = yield* producer.wait(id).pipe(
          Effect.timeoutFail({ duration: "15 seconds", onTimeout: () => "no wake-up" })
        )
        const latencyMs = Date.now() - t0
        const blockId = yield* producer.enqueue(blocking, undefined)
        while ((yield* producer.get(blockId)).status !== "running") yield* Effect.sleep(10)
        const t1 = Date.now()
        yield* producer.cancel(blockId)
        while (!interrupted && Date.now() - t1 < 10_000) yield* Effect.sleep(10)
        const cancelMs = Date.now() - t1
        yield* Scope.close(scope, Exit.void)
        return { done, latencyMs, cancelMs, cancelled: yield* producer.get(blockId) }
      }).pipe(
        Effect.provide(
          Layer.mergeAll(producerStorage, Registry.layer(), ExecutorConfig.layer(slowPolling), Ids.layerRandom)
        )
      )
      const r = await Effect.runPromise(program)
      expect(r.done.status).toBe("completed")
      expect(r.done.output).toBe(42)
      expect(started).toEqual([41])
      expect(r.latencyMs).toBeLessThan(10_000)
      expect(interrupted).toBe(true)
      expect(r.cancelMs).toBeLessThan(10_000)
      expect(r.cancelled.status).toBe("cancelled")
    }
  )
})

describe("PgSignals", () => {
  it("listens again after its connection is terminated (health-check ping)", async () => {
    const channel = uniqueName("relisten")
    const appName = uniqueName("listener")
    const client = (name: string) =>
      PgClient.layer({ url: Redacted.make(databaseUrl()), applicationName: name, maxConnections: 2 })
    const program = Effect.gen(function*() {
      const listener = Context.get(
        yield* Layer.build(
          PgSignals.layer({ channel, healthCheckIntervalMs: 200, healthCheckTimeoutMs: 500 }).pipe(
            Layer.provide(client(appName))
          )
        ),
        Signals.Signals
      )
      const sender = Context.get(
        yield* Layer.build(PgSignals.layer({ channel }).pipe(Layer.provide(client(uniqueName("sender"))))),
        Signals.Signals
      )
      const received: Array<string> = []
      yield* listener.subscribe({ cancelled: (ids) => received.push(...ids) })
      const sendAndWait = (id: string) =>
        Effect.gen(function*() {
          yield* sender.notifyCancelled([id])
          for (let i = 0; i < 100 && !received.includes(id); i++) yield* Effect.sleep(20)
          return received.includes(id)
        })
      const before = yield* sendAndWait("a")
      const sql = yield* SqlClient.SqlClient
      const terminated = yield* sql.unsafe<{ ok: boolean }>(
        "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1 AND query " +
          "LIKE 'LISTEN%'",
        [appName]
      )
      // Wait for the health check (every 200 ms, 500 ms ping timeout) to notice and listen again.
      let after = false
      for (let i = 0; i < 40 && !after; i++) after = yield* sendAndWait(`b${i}`)
      return { before, terminated: terminated.length, after }
    }).pipe(Effect.scoped, Effect.provide(client(uniqueName("admin"))))
    const r = await Effect.runPromise(program)
    expect(r.before).toBe(true)
    expect(r.terminated).toBe(1)
    expect(r.after).toBe(true)
  }, 60_000)
})
