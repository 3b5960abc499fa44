/**
 * The crash test's workload and checks: a storage and worker environment per dialect, enqueueing
 * trees of crash tasks, and verifying in storage that every execution finished exactly once.
 */
import * as path from "node:path"
import { createPostgresStorage, createSqliteStorage, DurableExecutor } from "../../src/index.js"
import { databaseUrl, uniqueName } from "../support/sql.js"
import { type Db, FINISHED, installAudit, pgDb, readRuns, sqliteDb } from "./harness.js"
import { defineCrashTasks, type LeafOutput } from "./tasks.js"

/** Postgres schemas the crash tests created (dropped after them). */
export const schemas: Array<string> = []

const finishedList = FINISHED.map((s) => `'${s}'`).join(", ")

export interface Setup {
  readonly dialect: "sqlite" | "pg"
  readonly dir: string
  readonly env: Record<string, string>
  readonly db: Db
  readonly storage: () => ReturnType<typeof createSqliteStorage>
}

export const setup = async (
  dialect: "sqlite" | "pg",
  dir: string,
  workerEnv: Record<string, string>
): Promise<Setup> => {
  const filename = path.join(dir, "crash.db")
  const schema = uniqueName("crash")
  if (dialect === "pg") schemas.push(schema)
  const storage = () =>
    dialect === "sqlite"
      ? createSqliteStorage({ filename })
      : createPostgresStorage({ connectionString: databaseUrl(), schema, maxConnections: 8 })
  // Create the tables (and check the storage opens) before the audit trigger goes on them.
  const opener = new DurableExecutor(storage(), { logLevel: "error" })
  const probe = defineCrashTasks(opener, { runLog: undefined, timeoutMs: 1_000, maxAttempts: 0 })
  await opener.getTaskHandle(probe.leaf, "none").catch(() => undefined)
  await opener.shutdown()
  const db = dialect === "sqlite" ? sqliteDb(filename) : pgDb(databaseUrl(), schema)
  await installAudit(db, dialect)
  const env = {
    CRASH_STORAGE: dialect,
    CRASH_SQLITE_FILE: filename,
    CRASH_DATABASE_URL: databaseUrl(),
    CRASH_PG_SCHEMA: schema,
    CRASH_RUN_DIR: dir,
    ...workerEnv
  }
  return { dialect, dir, env, db, storage }
}

/** Enqueues with the facade from the test process (a client: it never starts an executor). */
export const enqueue = async (
  s: Setup,
  work: {
    readonly flat: number
    readonly parents: number
    readonly children: number
    readonly sleepMs: (i: number) => number
    readonly retrySlowMs: number
    readonly timeoutMs?: number
  }
) => {
  const client = new DurableExecutor(s.storage(), { logLevel: "error" })
  const { leaf, parent } = defineCrashTasks(client, {
    runLog: undefined,
    timeoutMs: Number(s.env.CRASH_TIMEOUT_MS),
    maxAttempts: Number(s.env.CRASH_MAX_ATTEMPTS)
  })
  const jobs: Array<() => Promise<unknown>> = []
  for (let i = 0; i < work.flat; i++) {
    jobs.push(() =>
      client.enqueueTask(leaf, { i, sleepMs: work.sleepMs(i), retrySlowMs: work.retrySlowMs }, {
        timeoutMs: work.timeoutMs
      })
    )
  }
  for (let i = 0; i < work.parents; i++) {
    jobs.push(() =>
      client.enqueueTask(parent, {
        i,
        children: work.children,
        sleepMs: work.sleepMs(i),
        retrySlowMs: work.retrySlowMs
      })
    )
  }
  for (let k = 0; k < jobs.length; k += 200) await Promise.all(jobs.slice(k, k + 200).map((j) => j()))
  await client.shutdown()
  return work.flat + work.parents * (work.children + 2)
}

interface Row {
  readonly execution_id: string
  readonly task_id: string
  readonly status: string
  readonly output: string | null
  readonly run_output: string | null
  readonly parent_execution_id: string | null
}

export const unfinished = async (db: Db) =>
  Number(
    (await db.all<{ n: number | string }>(
      `SELECT count(*) AS n FROM ${db.t("durable_tasks_executions")} WHERE status NOT IN (${finishedList})`
    ))[0]!.n
  )

/** What storage and the run logs say, after the run. */
export const verify = async (s: Setup, expected: number) => {
  const rows = await s.db.all<Row>(
    `SELECT execution_id, task_id, status, output, run_output, parent_execution_id FROM ${
      s.db.t("durable_tasks_executions")
    }`
  )
  const audit = await s.db.all<{ execution_id: string; old_status: string; new_status: string }>(
    `SELECT execution_id, old_status, new_status FROM ${s.db.t("crash_audit")} ORDER BY id`
  )
  const runs = readRuns(s.dir)
  const ended = new Set(runs.filter((r) => r.kind === "E").map((r) => `${r.executionId} ${r.pid} ${r.attempt}`))
  const started = new Map<string, number>()
  for (const r of runs) if (r.kind === "S") started.set(r.executionId, (started.get(r.executionId) ?? 0) + 1)
  const finishes = new Map<string, number>()
  const claims = new Map<string, number>()
  let changedAfterFinish = 0
  for (const a of audit) {
    if (FINISHED.includes(a.old_status)) changedAfterFinish++
    else if (FINISHED.includes(a.new_status)) finishes.set(a.execution_id, (finishes.get(a.execution_id) ?? 0) + 1)
    if (a.old_status === "ready" && a.new_status === "running") {
      claims.set(a.execution_id, (claims.get(a.execution_id) ?? 0) + 1)
    }
  }
  const completed = rows.filter((r) => r.status === "completed")
  // Every recorded result came from a run that finished (its E line), in the process and attempt it names.
  const unproven = rows.filter((r) => {
    const source = r.task_id === "crash.parent" ? r.run_output : r.output
    if (source === null) return true
    const out = JSON.parse(source) as LeafOutput
    return !ended.has(`${r.execution_id} ${out.pid} ${out.attempt}`)
  })
  // A parent's output is its finalize task's sum of its children's inputs.
  const byParent = new Map<string, Array<Row>>()
  for (const r of rows) {
    if (r.parent_execution_id !== null) {
      byParent.set(r.parent_execution_id, [...(byParent.get(r.parent_execution_id) ?? []), r])
    }
  }
  const wrongSums = rows.filter((r) => {
    if (r.task_id !== "crash.parent" || r.output === null) return false
    const children = (byParent.get(r.execution_id) ?? []).filter((c) => c.task_id === "crash.leaf")
    const sum = children.reduce((acc, c) => acc + (JSON.parse(c.output ?? "{}") as LeafOutput).i, 0)
    return (JSON.parse(r.output) as { sum: number }).sum !== sum
  })
  return {
    executions: rows.length,
    expected,
    lost: expected - completed.length,
    duplicated: [...finishes.values()].filter((n) => n > 1).length,
    finishedOnce: [...finishes.values()].filter((n) => n === 1).length,
    changedAfterFinish,
    unproven: unproven.length,
    wrongSums: wrongSums.length,
    runsStarted: runs.filter((r) => r.kind === "S").length,
    reruns: [...started.values()].reduce((acc, n) => acc + n - 1, 0),
    rows,
    claims,
    started,
    runs
  }
}
