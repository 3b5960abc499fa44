/**
 * Real processes, real crashes. Executor worker processes (test/crash/worker.ts) run on a SQLite
 * file and on Postgres; the test SIGKILLs them mid-task, starts new ones, pauses one (SIGSTOP) for
 * longer than its leases and resumes it, and checks in storage that every execution finished once:
 * none lost, one result each, no row changed after it finished (an audit trigger records every
 * update), and every recorded output came from a run that really finished. Then four processes
 * share 5,000 executions on one Postgres: all complete, each runs exactly once, and each is
 * claimed exactly once (never held under two live leases).
 */
import { afterAll, describe, expect, it } from "vitest"
import { openRuns, readRuns, signal, startWorker, type Worker } from "./crash/harness.js"
import { type LeafOutput } from "./crash/tasks.js"
import { enqueue, schemas, type Setup, setup, unfinished, verify } from "./crash/workload.js"
import { dropSchemas, tempDir } from "./support/sql.js"
import { eventually, sleep } from "./support/wait.js"

afterAll(() => dropSchemas(schemas))

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
      }, { what: "a paused run taken over and running elsewhere", timeoutMs: 60_000, intervalMs: 10 })
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
