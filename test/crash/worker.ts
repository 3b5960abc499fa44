/**
 * An executor worker process for the crash tests: SQLite file or Postgres schema from the
 * environment, the crash tasks registered, prints "ready" once running; SIGTERM shuts it down
 * gracefully, SIGKILL is the crash under test.
 */
import * as path from "node:path"
import { createPostgresStorage, createSqliteStorage, DurableExecutor } from "../../src/index.js"
import { defineCrashTasks } from "./tasks.js"

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback
  if (value === undefined) throw new Error(`missing ${name}`)
  return value
}

const storage = env("CRASH_STORAGE") === "sqlite"
  ? createSqliteStorage({ filename: env("CRASH_SQLITE_FILE"), synchronous: "normal" })
  : createPostgresStorage({
    connectionString: env("CRASH_DATABASE_URL"),
    schema: env("CRASH_PG_SCHEMA"),
    maxConnections: 4
  })

const executor = new DurableExecutor(storage, {
  executorId: `w_${process.pid}`,
  maxConcurrentTaskExecutions: Number(env("CRASH_CONCURRENCY", "4")),
  leaseLeewayMs: Number(env("CRASH_LEEWAY_MS", "300")),
  pollIntervalMs: Number(env("CRASH_POLL_MS", "100")),
  shutdownGracePeriodMs: 1_000,
  logLevel: "error"
})
defineCrashTasks(executor, {
  runLog: path.join(env("CRASH_RUN_DIR"), `runs-${process.pid}.log`),
  timeoutMs: Number(env("CRASH_TIMEOUT_MS", "1000")),
  maxAttempts: Number(env("CRASH_MAX_ATTEMPTS", "20"))
})

process.on("SIGTERM", () => {
  void executor.shutdown().then(() => process.exit(0), () => process.exit(1))
})
await executor.start()
process.stdout.write("ready\n")
