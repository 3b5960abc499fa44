/**
 * Real processes, real crashes. Executor worker processes (test/crash/worker.ts) run on a SQLite
 * file and on Postgres; the test SIGKILLs them mid-task, starts new ones, pauses one (SIGSTOP) for
 * longer than its leases and resumes it, and checks in storage that every execution finished once:
 * none lost, one result each, no row changed after it finished (an audit trigger records every
 * update), and every recorded output came from a run that really finished. Then four processes
 * share 5,000 executions on one Postgres: all complete, each runs exactly once, and each is
 * claimed exactly once (never held under two live leases).
 */
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { createPostgresStorage, createSqliteStorage, DurableExecutor } from "../src/index.js"
import {
  type Db,
  FINISHED,
  installAudit,
  openRuns,
  pgDb,
  readRuns,
  signal,
  sqliteDb,
  startWorker,
  type Worker
} from "./crash/harness.js"
import { defineCrashTasks, type LeafOutput } from "./crash/tasks.js"
import { databaseUrl, dropSchemas, tempDir, uniqueName } from "./support/sql.js"
import { eventually, sleep } from "./support/wait.js"

const schemas: Array<string> = []
afterAll(() => dropSchemas(schemas))

const finishedList = FINISHED.map((s) => `'${s}'`).join(", ")

interface Setup {
  readonly dialect: "sqlite" | "pg"
  readonly dir: string
  readonly env: Record<string, string>
  readonly db: Db
  readonly storage: () => ReturnType<typeof createSqliteStorage>
}

const setup = async (dialect: "sqlite" | "pg", dir: string, workerEnv: Record<string, string>): Promise<Setup> => {
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
const enqueue = async (
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

const unfinished = async (db: Db) =>
  Number(
    (await db.all<{ n: number | string }>(
      `SELECT count(*) AS n FROM ${db.t("durable_tasks_executions")} WHERE status NOT IN (${finishedList})`
    ))[0]!.n
  )

/** What storage and the run logs say, after the run. */
const verify = async (s: Setup, expected: number) => {
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

describe.each(["sqlite", "pg"] as const)("crashes on %s", (dialect) => {
  it("workers killed mid-task, and one paused past its leases, lose nothing and record each result once", async () => {
    const tmp = tempDir()
    const workers: Array<Worker> = []
    let s: Setup | undefined
    try {
      s = await setup(dialect, tmp.dir, {
        CRASH_CONCURRENCY: "3",
        CRASH_TIMEOUT_MS: "1000",
        CRASH_LEEWAY_MS: "300",
        CRASH_POLL_MS: "100",
        CRASH_MAX_ATTEMPTS: "20"
      })
      const expected = await enqueue(s, {
        flat: 300,
        parents: 15,
        children: 4,
        sleepMs: (i) => 20 + ((i * 37) % 100),
        retrySlowMs: 0
      })
      const live = () => workers.filter((w) => w.process.exitCode === null && w.process.signalCode === null)
      for (let k = 0; k < 3; k++) workers.push(startWorker(s.env))
      await Promise.all(workers.map((w) => w.ready))

      let kills = 0
      let killedMidTask = 0
      const ready = new Set<Worker>(workers)
      for (let k = 0; k < 4; k++) {
        await sleep(300)
        // The busiest ready worker: replacements start in the background and join when ready.
        await eventually(() => live().some((w) => ready.has(w)), { what: "a ready worker", timeoutMs: 30_000 })
        const candidates = live().filter((w) => ready.has(w))
        const victim = candidates.sort((a, b) => openRuns(tmp.dir, b.pid) - openRuns(tmp.dir, a.pid))[0]!
        await eventually(() => openRuns(tmp.dir, victim.pid) > 0, {
          what: "a run in progress",
          timeoutMs: 3_000,
          intervalMs: 5
        }).catch(() => {})
        if (openRuns(tmp.dir, victim.pid) > 0) killedMidTask++
        await signal(victim, "SIGKILL")
        kills++
        const replacement = startWorker(s.env)
        workers.push(replacement)
        void replacement.ready.then(() => ready.add(replacement))
      }

      // A stale runner. A worker whose lease-watch loop polls only every minute (so nothing
      // interrupts its runs) runs three slow probes alone; it is paused for longer than their leases
      // (timeout 2500 + leeway 300) while two fresh workers take them over, and resumed while those
      // still run them (a retry sleeps 1.5 s more). Its late results meet rows running under other
      // leases: only the lease fence keeps them out.
      await eventually(async () => (await unfinished(s!.db)) === 0, {
        what: "the crash workload finished",
        timeoutMs: 90_000,
        intervalMs: 200
      })
      for (const w of live()) await signal(w, "SIGKILL")
      const probes = await enqueue(s, {
        flat: 3,
        parents: 0,
        children: 0,
        sleepMs: () => 500,
        retrySlowMs: 1_500,
        timeoutMs: 2_500
      })
      const paused = startWorker({ ...s.env, CRASH_POLL_MS: "60000" })
      workers.push(paused)
      await paused.ready
      await eventually(() => openRuns(tmp.dir, paused.pid) === 3, {
        what: "the probes running",
        timeoutMs: 10_000,
        intervalMs: 5
      })
      await signal(paused, "SIGSTOP")
      // The runs the paused process holds: S lines without their E line.
      const pausedRuns = new Map<string, number>()
      for (const run of readRuns(tmp.dir).filter((x) => x.pid === paused.pid)) {
        if (run.kind === "S") pausedRuns.set(`${run.executionId} ${run.attempt}`, run.attempt)
        else pausedRuns.delete(`${run.executionId} ${run.attempt}`)
      }
      const takers = [startWorker(s.env), startWorker(s.env)]
      workers.push(...takers)
      await Promise.all(takers.map((w) => w.ready))
      // Which of its executions others took over, and which of those they are still running: wait
      // (bounded) until at least one is running elsewhere, rather than for a fixed pause.
      const pausedIds = new Set([...pausedRuns.keys()].map((k) => k.split(" ")[0]!))
      type RowAt = { execution_id: string; status: string; executor_id: string | null }
      const takenOverNow = async () =>
        (await s!.db.all<RowAt>(`SELECT execution_id, status, executor_id FROM ${s!.db.t("durable_tasks_executions")}`))
          .filter((x) =>
            pausedIds.has(x.execution_id) && !(x.status === "running" && x.executor_id === `w_${paused.pid}`)
          )
      let takenOver: Array<RowAt> = []
      await eventually(async () => {
        takenOver = await takenOverNow()
        return takenOver.some((x) => x.status === "running")
      }, { what: "a paused run taken over and running elsewhere", timeoutMs: 30_000, intervalMs: 10 })
      const runningElsewhere = takenOver.filter((x) => x.status === "running").length
      const resumedAt = Date.now()
      await signal(paused, "SIGCONT")

      await eventually(async () => (await unfinished(s!.db)) === 0, {
        what: "every execution finished",
        timeoutMs: 90_000,
        intervalMs: 200
      })
      // Give the resumed worker time to try its late writes (the fence must reject them).
      await sleep(1_000)
      for (const w of workers) await signal(w, "SIGKILL")

      const r = await verify(s, expected + probes)
      const lateEnds = r.runs.filter((x) => x.kind === "E" && x.pid === paused.pid && x.atMs >= resumedAt).length
      // No result of a run whose lease lapsed during the pause was recorded.
      const takenOverIds = new Set(takenOver.map((x) => x.execution_id))
      const staleRecorded = [...pausedRuns.keys()].filter((key) => {
        const [executionId, attempt] = key.split(" ")
        if (!takenOverIds.has(executionId!)) return false
        const row = r.rows.find((x) => x.execution_id === executionId)
        const source = row?.task_id === "crash.parent" ? row.run_output : row?.output
        const out = source ? (JSON.parse(source) as LeafOutput) : undefined
        return out !== undefined && out.pid === paused.pid && out.attempt === Number(attempt)
      }).length
      console.log(
        `crash[${dialect}]: kills=${kills} (mid-task ${killedMidTask}), paused with ${pausedRuns.size} runs ` +
          `in progress (taken over ${takenOver.length}, still running elsewhere at resume ${runningElsewhere}; ` +
          `late ends after resume ` +
          `${lateEnds}, recorded ${staleRecorded}), ` +
          `executions=${r.executions}, runs=${r.runsStarted}, reruns=${r.reruns}, lost=${r.lost}, ` +
          `duplicated=${r.duplicated}, ` +
          `changedAfterFinish=${r.changedAfterFinish}, unproven=${r.unproven}`
      )
      expect(r.executions).toBe(expected + probes)
      expect(r.lost).toBe(0)
      expect(r.duplicated).toBe(0)
      expect(r.finishedOnce).toBe(expected + probes)
      expect(r.changedAfterFinish).toBe(0)
      expect(r.unproven).toBe(0)
      expect(r.wrongSums).toBe(0)
      expect(kills).toBe(4)
      expect(pausedRuns.size).toBeGreaterThan(0)
      expect(runningElsewhere).toBeGreaterThan(0)
      expect(staleRecorded).toBe(0)
      expect(killedMidTask).toBeGreaterThan(0)
      // Runs cut short by a kill were run again.
      expect(r.reruns).toBeGreaterThanOrEqual(killedMidTask)
    } finally {
      for (const w of workers) await signal(w, "SIGKILL")
      await s?.db.close()
      tmp.remove()
    }
  }, 150_000)
})

describe("four executor processes on one Postgres", () => {
  it(
    "run 5,000 executions (flat, and parents with children): all complete, each runs once under one lease",
    async () => {
      const tmp = tempDir()
      const workers: Array<Worker> = []
      let s: Setup | undefined
      try {
        s = await setup("pg", tmp.dir, {
          CRASH_CONCURRENCY: "64",
          CRASH_TIMEOUT_MS: "20000",
          CRASH_LEEWAY_MS: "10000",
          CRASH_POLL_MS: "500",
          CRASH_MAX_ATTEMPTS: "0"
        })
        for (let k = 0; k < 4; k++) workers.push(startWorker(s.env))
        await Promise.all(workers.map((w) => w.ready))
        const t0 = Date.now()
        // 2,000 flat + 500 parents × (1 + 4 children + 1 finalize) = 5,000 executions.
        const expected = await enqueue(s, { flat: 2_000, parents: 500, children: 4, sleepMs: () => 0, retrySlowMs: 0 })
        expect(expected).toBe(5_000)
        await eventually(async () => (await unfinished(s!.db)) === 0, {
          what: "every execution finished",
          timeoutMs: 120_000,
          intervalMs: 200
        })
        const wallMs = Date.now() - t0
        for (const w of workers) await signal(w, "SIGKILL")

        const r = await verify(s, expected)
        const byWorker = new Map<number, number>()
        for (const run of r.runs) if (run.kind === "S") byWorker.set(run.pid, (byWorker.get(run.pid) ?? 0) + 1)
        const claimedTwice = [...r.claims.values()].filter((n) => n !== 1).length
        const ranTwice = [...r.started.values()].filter((n) => n !== 1).length
        console.log(
          `4 workers × pg: executions=${r.executions} in ${wallMs} ms (enqueue included), runs per worker ${
            [...byWorker.values()].join("/")
          }, ` +
            `lost=${r.lost}, ranTwice=${ranTwice}, claimedTwice=${claimedTwice}, ` +
            `changedAfterFinish=${r.changedAfterFinish}`
        )
        expect(r.executions).toBe(5_000)
        expect(r.lost).toBe(0)
        expect(r.started.size).toBe(5_000)
        expect(ranTwice).toBe(0)
        expect(r.claims.size).toBe(5_000)
        expect(claimedTwice).toBe(0)
        expect(r.duplicated).toBe(0)
        expect(r.changedAfterFinish).toBe(0)
        expect(r.unproven).toBe(0)
        expect(r.wrongSums).toBe(0)
        expect(byWorker.size).toBe(4)
      } finally {
        for (const w of workers) await signal(w, "SIGKILL")
        await s?.db.close()
        tmp.remove()
      }
    },
    180_000
  )
})
