/**
 * Trivial tasks per second on each storage, in one process (a script, not a test: figures depend
 * on the machine). Postgres: `DATABASE_URL`, or a throwaway embedded server.
 *
 *   npx tsx bench/storage-throughput.ts [--n 5000] [--backends memory,sqlite,sqlite-normal,postgres]
 *
 * Two measures per storage:
 * - drain: N executions enqueued first (Effect API), then one executor starts; time until all are
 *   completed (counted in storage). The executor's own throughput: claim, run, batched finish.
 * - facade: the Promise API end to end: `enqueueTask` N times (200 at a time) on a running
 *   executor and `waitAndGetExecution` on every handle.
 */
import * as PgClient from "@effect/sql-pg/PgClient"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as DurableExecutorModule from "../src/DurableExecutor.js"
import * as ExecutorConfig from "../src/ExecutorConfig.js"
import * as Ids from "../src/Ids.js"
import {
  createInMemoryStorage,
  createPostgresStorage,
  createSqliteStorage,
  DurableExecutor,
  type DurableStorage
} from "../src/index.js"
import * as MemoryStorage from "../src/MemoryStorage.js"
import * as PgSignals from "../src/PgSignals.js"
import * as Registry from "../src/Registry.js"
import * as Signals from "../src/Signals.js"
import * as SqliteStorage from "../src/SqliteStorage.js"
import * as SqlStorage from "../src/SqlStorage.js"
import * as Task from "../src/Task.js"
import { TaskStorage } from "../src/TaskStorage.js"
import { startEmbeddedPostgres } from "../test/support/embeddedPostgres.js"

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback
}
const n = Number(arg("n", "5000"))
const backends = arg("backends", "memory,sqlite,sqlite-normal,postgres").split(",")

const trivial = Task.make({ id: "trivial", timeoutMs: 60_000, run: (i: number) => Effect.succeed(i + 1) })

interface Backend {
  readonly name: string
  /** Storage and signals, plus a way to count completed executions. */
  readonly layer: () => Layer.Layer<TaskStorage | Signals.Signals | Counter, unknown>
  readonly facade: () => DurableStorage
}

/** Counts completed executions (a cheap query, for the drain measure). */
class Counter extends Context.Tag("bench/Counter")<Counter, { readonly completed: Effect.Effect<number, unknown> }>() {}

const sqlCounter = (table: string) =>
  Layer.effect(
    Counter,
    Effect.map(SqlClient.SqlClient, (sql) => ({
      completed: Effect.map(
        sql.unsafe<{ n: number | string }>(`SELECT count(*) AS n FROM ${table} WHERE status = 'completed'`),
        (r) => Number(r[0]!.n)
      )
    }))
  )

const memoryCounter = Layer.effect(
  Counter,
  Effect.map(TaskStorage, (storage) => ({
    completed: Effect.map(storage.list({ status: "completed", limit: n }), (rows) => rows.length)
  }))
)

const drain = (backend: Backend) =>
  Effect.gen(function*() {
    const counter = yield* Counter
    // A client without an executor enqueues first: every execution is ready before the run starts.
    const client = yield* DurableExecutorModule.makeClient(Effect.succeed(false)).pipe(
      Effect.provide(Layer.mergeAll(Registry.layer(), ExecutorConfig.layer(), Ids.layerRandom))
    )
    yield* Effect.forEach(Array.from({ length: n }, (_, i) => i), (i) => client.enqueue(trivial, i), {
      concurrency: 64,
      discard: true
    })
    const t0 = performance.now()
    const done = yield* Effect.scoped(Effect.gen(function*() {
      yield* Layer.build(DurableExecutorModule.layer({ tasks: [trivial] }))
      while ((yield* counter.completed) < n) yield* Effect.sleep(20)
      return performance.now() - t0
    }))
    return { name: backend.name, drainPerSecond: Math.round(n / (done / 1000)) }
  }).pipe(Effect.provide(backend.layer()))

const facade = async (backend: Backend) => {
  const executor = new DurableExecutor(backend.facade(), { logLevel: "error" })
  const task = executor.task({ id: "trivial", timeoutMs: 60_000, run: (_ctx, i: number) => i + 1 })
  await executor.start()
  const t0 = performance.now()
  const handles = []
  for (let k = 0; k < n; k += 200) {
    handles.push(
      ...await Promise.all(Array.from({ length: Math.min(200, n - k) }, (_, i) => executor.enqueueTask(task, k + i)))
    )
  }
  const results = await Promise.all(handles.map((h) => h.waitAndGetExecution()))
  const ms = performance.now() - t0
  await executor.shutdown()
  if (!results.every((r, i) => r.status === "completed" && r.output === i + 1)) {
    throw new Error(`${backend.name}: wrong results`)
  }
  return Math.round(n / (ms / 1000))
}

const main = async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "durable-tasks-bench-"))
  let pg: Awaited<ReturnType<typeof startEmbeddedPostgres>> | undefined
  const url = process.env.DATABASE_URL ??
    (backends.includes("postgres") ? (pg = await startEmbeddedPostgres({ fsync: true })).url : "")
  let run = 0
  const all: Record<string, Backend> = {
    memory: {
      name: "memory",
      layer: () => Layer.mergeAll(Signals.layerMemory, memoryCounter).pipe(Layer.provideMerge(MemoryStorage.layer)),
      facade: createInMemoryStorage
    },
    sqlite: sqliteBackend("sqlite", "full"),
    "sqlite-normal": sqliteBackend("sqlite-normal", "normal"),
    postgres: {
      name: "postgres",
      layer: () => {
        const schema = `bench_${process.pid}_${run++}`
        return Layer.mergeAll(
          SqlStorage.layer({ schema }),
          PgSignals.layer({ channel: SqlStorage.channelOf({ schema }) }),
          sqlCounter(`"${schema}".durable_tasks_executions`)
        ).pipe(
          Layer.provideMerge(PgClient.layer({ url: Redacted.make(url) }))
        )
      },
      facade: () => createPostgresStorage({ connectionString: url, schema: `bench_${process.pid}_${run++}` })
    }
  }
  function sqliteBackend(name: string, synchronous: "full" | "normal"): Backend {
    return {
      name,
      layer: () => {
        const filename = path.join(dir, `${name}-${run++}.db`)
        return Layer.mergeAll(SqlStorage.layer(), Signals.layerMemory, sqlCounter("durable_tasks_executions")).pipe(
          Layer.provideMerge(SqliteStorage.layerClient({ filename, synchronous }))
        )
      },
      facade: () => createSqliteStorage({ filename: path.join(dir, `${name}-${run++}.db`), synchronous })
    }
  }
  try {
    console.log(
      `trivial tasks per second, n = ${n}, node ${process.version}, ${os.cpus().length} cores (load ${
        os.loadavg()[0]!.toFixed(1)
      })`
    )
    for (const name of backends) {
      const backend = all[name]
      if (backend === undefined) throw new Error(`unknown backend ${name}`)
      const { drainPerSecond } = await Effect.runPromise(drain(backend))
      const facadePerSecond = await facade(backend)
      console.log(
        `${name.padEnd(14)} drain ${String(drainPerSecond).padStart(12)}/s   facade end-to-end ${
          String(facadePerSecond).padStart(6)
        }/s`
      )
    }
  } finally {
    await pg?.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

await main()
