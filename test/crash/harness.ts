/**
 * Crash-test harness: worker processes, direct database access (better-sqlite3 or pg, test-side
 * only), an audit trigger that records every update of an execution row, and run-log parsing.
 */
import * as PgClient from "@effect/sql-pg/PgClient"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import * as SqliteStorage from "../../src/SqliteStorage.js"
import { FINISHED_STATUSES } from "../../src/TaskStatus.js"

/** The finished statuses, as strings (the audit log holds any text). */
export const FINISHED: ReadonlyArray<string> = [...FINISHED_STATUSES]

export interface Worker {
  readonly process: ChildProcess
  readonly pid: number
  readonly ready: Promise<void>
  readonly output: () => string
}

const repoRoot = path.resolve(import.meta.dirname, "../..")

/** Starts `test/crash/worker.ts` in a new Node process with `env`. */
export const startWorker = (env: Record<string, string>): Worker => {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(repoRoot, "test/crash/worker.ts")], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let out = ""
  child.stdout!.on("data", (d) => (out += String(d)))
  child.stderr!.on("data", (d) => (out += String(d)))
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker ${child.pid} not ready after 30 s:\n${out}`)), 30_000)
    child.stdout!.on("data", () => {
      if (out.includes("ready")) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.on("exit", (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`worker ${child.pid} exited (${code ?? signal}) before ready:\n${out}`))
    })
  })
  ready.catch(() => {})
  return { process: child, pid: child.pid!, ready, output: () => out }
}

/** Sends `signal` and, for SIGKILL and SIGTERM, waits until the process is gone. */
export const signal = (worker: Worker, sig: NodeJS.Signals): Promise<void> =>
  new Promise((resolve) => {
    if (worker.process.exitCode !== null || worker.process.signalCode !== null) return resolve()
    if (sig === "SIGKILL" || sig === "SIGTERM") worker.process.once("exit", () => resolve())
    worker.process.kill(sig)
    if (sig !== "SIGKILL" && sig !== "SIGTERM") resolve()
  })

/** Raw database access for the test process; `t(name)` qualifies a table name. */
export interface Db {
  readonly t: (name: string) => string
  readonly all: <T>(text: string) => Promise<Array<T>>
  readonly exec: (text: string) => Promise<void>
  readonly close: () => Promise<void>
}

const dbOver = (layer: Layer.Layer<SqlClient.SqlClient, unknown>, t: (name: string) => string): Db => {
  const runtime = ManagedRuntime.make(layer)
  const run = (text: string) => runtime.runPromise(Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(text)))
  return {
    t,
    all: async <T>(text: string) => (await run(text)) as unknown as Array<T>,
    exec: async (text) => void (await run(text)),
    close: () => runtime.dispose()
  }
}

export const sqliteDb = (filename: string): Db =>
  dbOver(SqliteStorage.layerClient({ filename, busyTimeoutMs: 10_000 }), (n) => n)

export const pgDb = (url: string, schema: string): Db =>
  dbOver(PgClient.layer({ url: Redacted.make(url), maxConnections: 2 }), (n) => `"${schema}"."${n}"`)

/** Records every update of an execution row (old and new status, lease, output) in `crash_audit`. */
export const installAudit = async (db: Db, dialect: "sqlite" | "pg"): Promise<void> => {
  const audit = db.t("crash_audit")
  const executions = db.t("durable_tasks_executions")
  const columns = "execution_id, old_status, new_status, old_lease, new_lease, new_executor, updated_at, output"
  const values =
    "OLD.execution_id, OLD.status, NEW.status, OLD.lease_id, NEW.lease_id, NEW.executor_id, NEW.updated_at, NEW.output"
  if (dialect === "sqlite") {
    await db.exec(`CREATE TABLE ${audit} (id INTEGER PRIMARY KEY, execution_id TEXT, old_status TEXT, new_status TEXT,
      old_lease TEXT, new_lease TEXT, new_executor TEXT, updated_at INTEGER, output TEXT)`)
    await db.exec(`CREATE TRIGGER crash_audit_update AFTER UPDATE ON ${executions}
      BEGIN INSERT INTO ${audit} (${columns}) VALUES (${values}); END`)
  } else {
    await db.exec(`CREATE TABLE ${audit} (id bigserial PRIMARY KEY, execution_id text, old_status text, new_status text,
      old_lease text, new_lease text, new_executor text, updated_at bigint, output text)`)
    await db.exec(`CREATE FUNCTION ${db.t("crash_audit_fn")}() RETURNS trigger AS $$
      BEGIN INSERT INTO ${audit} (${columns}) VALUES (${values}); RETURN NEW; END $$ LANGUAGE plpgsql`)
    await db.exec(`CREATE TRIGGER crash_audit_update AFTER UPDATE ON ${executions}
      FOR EACH ROW EXECUTE FUNCTION ${db.t("crash_audit_fn")}()`)
  }
}

export interface Run {
  readonly kind: "S" | "E"
  readonly executionId: string
  readonly pid: number
  readonly attempt: number
  readonly atMs: number
}

/** Every run-log line of every worker in `dir`. */
export const readRuns = (dir: string): Array<Run> =>
  fs.readdirSync(dir).filter((f) => f.startsWith("runs-")).flatMap((f) =>
    fs.readFileSync(path.join(dir, f), "utf8").split("\n").filter((l) => l.length > 0).map((l) => {
      const [kind, executionId, pid, attempt, atMs] = l.split(" ")
      return {
        kind: kind as "S" | "E",
        executionId: executionId!,
        pid: Number(pid),
        attempt: Number(attempt),
        atMs: Number(atMs)
      }
    })
  )

/** Runs started but not ended in `pid`'s log (a kill now cuts them short). */
export const openRuns = (dir: string, pid: number): number => {
  const file = path.join(dir, `runs-${pid}.log`)
  if (!fs.existsSync(file)) return 0
  let open = 0
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (line.startsWith("S ")) open++
    else if (line.startsWith("E ")) open--
  }
  return open
}
