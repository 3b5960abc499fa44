/**
 * A process that shuts its executor down while waits are pending, then does nothing else: it must
 * exit on its own (nothing of the executor may keep the event loop alive). Run by
 * test/shutdown.test.ts with `SHUTDOWN_STORAGE` = memory | sqlite | pg (and `SHUTDOWN_SQLITE_FILE`,
 * or `DATABASE_URL` and `SHUTDOWN_PG_SCHEMA`). Prints one JSON line: how each wait settled, and the
 * resources still active after shutdown.
 */
import {
  createInMemoryStorage,
  createPostgresStorage,
  createSqliteStorage,
  DurableExecutor,
  type DurableStorage
} from "../../src/index.js"

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined) throw new Error(`${name} is not set`)
  return value
}

const storageOf = (kind: string): DurableStorage => {
  switch (kind) {
    case "memory":
      return createInMemoryStorage()
    case "sqlite":
      return createSqliteStorage({ filename: env("SHUTDOWN_SQLITE_FILE") })
    default:
      return createPostgresStorage({ connectionString: env("DATABASE_URL"), schema: env("SHUTDOWN_PG_SCHEMA") })
  }
}

const executor = new DurableExecutor(storageOf(env("SHUTDOWN_STORAGE")), {
  logLevel: "none",
  shutdownGracePeriodMs: 100
})
const drained = executor.task({
  id: "drained",
  timeoutMs: 60_000,
  run: (ctx) => new Promise<string>((resolve) => ctx.shutdownSignal.addEventListener("abort", () => resolve("drained")))
})
const later = executor.task({ id: "later", timeoutMs: 60_000, run: () => "never runs" })

await executor.start()
const running = await executor.enqueueTask(drained)
const notDue = await executor.enqueueTask(later, undefined, { sleepMsBeforeRun: 3_600_000 })
const waits = [
  running.waitAndGetExecution(),
  notDue.waitAndGetExecution(), // default polling (1 s)
  notDue.waitAndGetExecution({ pollingIntervalMs: 3_600_000 }) // a poll timer of an hour
]
const settling = Promise.allSettled(waits)
// Let the run start, so that shutdown has something to drain.
while ((await running.getExecution()).status !== "running") await new Promise((resolve) => setTimeout(resolve, 5))
await executor.shutdown()
const settled = await settling
const outcome = settled.map((s) =>
  s.status === "fulfilled"
    ? { status: s.value.status, output: s.value.output }
    : { error: (s.reason as Error).name, message: (s.reason as Error).message }
)
const shutAtMs = performance.now()
setImmediate(() => {
  console.log(JSON.stringify({ outcome, activeResources: process.getActiveResourcesInfo() }))
})
process.on("exit", () => console.log(JSON.stringify({ exitAfterShutdownMs: Math.round(performance.now() - shutAtMs) })))
