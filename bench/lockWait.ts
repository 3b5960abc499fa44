/**
 * Lock wait (SQLite): another process holds the file's write lock (`BEGIN IMMEDIATE`) for 2 s while
 * this process runs an idle executor and enqueues a task, which must wait for the lock. Reports this
 * process's event-loop delay during the wait (`perf_hooks.monitorEventLoopDelay`: p50, p99, max), the
 * p99 delay of a 1 ms timer with stalls counted (the histogram's own p99 hides one long stall: it takes
 * no samples during it), a control run without the lock, and how long the enqueue waited. Goal: p99
 * ≤ 20 ms (better-sqlite3's own busy wait held the thread for the whole 2 s).
 *
 * Part of `npm run bench` (scenario `lock-wait`, sqlite only). Also runs alone, e.g. against another
 * checkout's sources: `DURABLE_TASKS_BENCH_ENGINE=/path/to/checkout/src/index.ts npx tsx bench/lockWait.ts`.
 */
import { fork } from "node:child_process"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { monitorEventLoopDelay } from "node:perf_hooks"
import { fileURLToPath, pathToFileURL } from "node:url"
import type { SharedStorage } from "./backends.js"
import { engine, engineSource } from "./engine.js"
import type { Figure, Scenario, ScenarioContext } from "./scenarios.js"
import { nowMs, percentile, sleep } from "./stats.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const HOLD_MS = 2_000
const lockHolder = path.join(here, "..", "test", "storage-errors", "lockHolder.mjs")

/** Forks the lock holder on `filename`; resolves once it holds the lock, with a promise of its release. */
const holdLock = (filename: string): Promise<{ readonly released: Promise<void> }> =>
  new Promise((resolve, reject) => {
    const child = fork(lockHolder, [filename, String(HOLD_MS)], { stdio: ["ignore", "inherit", "inherit", "ipc"] })
    const released = new Promise<void>((done) => child.once("exit", () => done()))
    child.once("error", reject)
    child.on("message", (message) => {
      if (message === "locked") resolve({ released })
    })
    void released.then(() => reject(new Error("the lock holder exited before it held the lock")))
  })

interface Delay {
  readonly p50: number
  readonly p99: number
  readonly max: number
  readonly samples: number
  /**
   * p99 of what a timer due every millisecond waited, corrected for coordinated omission: the
   * histogram takes no sample while the loop is stalled, so one 2 s stall is one sample among
   * hundreds and barely moves its p99; here every millisecond of a stall counts.
   */
  readonly correctedP99: number
}

/** Delays of a 1 ms timer chain; each stall also counts the timers that fell due during it. */
const timerDelays = () => {
  const lags: Array<number> = []
  let last = nowMs()
  let timer: NodeJS.Timeout | undefined
  const tick = () => {
    const now = nowMs()
    for (let lag = now - last - 1; lag > 0; lag -= 1) lags.push(lag)
    last = now
    timer = setTimeout(tick, 1)
  }
  timer = setTimeout(tick, 1)
  return () => {
    clearTimeout(timer)
    return lags.length === 0 ? 0 : percentile(lags, 99)
  }
}

/** This process's event-loop delay (ms) while `body` runs, and what it returns. */
const delayDuring = async <A>(body: () => Promise<A>): Promise<{ readonly delay: Delay; readonly value: A }> => {
  const histogram = monitorEventLoopDelay({ resolution: 1 })
  histogram.enable()
  await sleep(20) // the histogram records from its second tick on
  const stopTimers = timerDelays()
  const value = await body()
  await sleep(100) // so that a stall that ends with `body` is sampled too
  const correctedP99 = stopTimers()
  histogram.disable()
  const ms = (ns: number) => ns / 1e6
  const delay = {
    p50: ms(histogram.percentile(50)),
    p99: ms(histogram.percentile(99)),
    max: ms(histogram.max),
    samples: histogram.count,
    correctedP99
  }
  return { delay, value }
}

/**
 * One run: the delay while another process holds the lock and a task is enqueued (the enqueue waits
 * for the lock, then the task runs), and, as a control, the same with no lock held.
 */
const measureOnce = async (filename: string, executor: InstanceType<typeof engine.DurableExecutor>) => {
  const task = executor.task({ id: "lock_wait_probe", timeoutMs: 60_000, run: (_ctx, n: number) => n })
  await executor.start()
  // Warm: the connection, the migrations and the task's code path.
  await (await executor.enqueueTask(task, 0)).waitAndGetExecution()
  // The control does the same work with no lock held: an enqueue and its run (a commit, whose fsync
  // blocks the thread as every better-sqlite3 statement does), over the same 2 s.
  const control = await delayDuring(async () => {
    const t0 = nowMs()
    await (await executor.enqueueTask(task, 1)).waitAndGetExecution()
    await sleep(Math.max(0, HOLD_MS - (nowMs() - t0)))
  })
  // Measured from before the lock is taken: the executor's own loops also try to write while it is held.
  const locked = await delayDuring(async () => {
    const { released } = await holdLock(filename)
    const t0 = nowMs()
    const handle = await executor.enqueueTask(task, 1)
    const enqueueWaitMs = nowMs() - t0
    const execution = await handle.waitAndGetExecution()
    if (execution.status !== "completed") throw new Error(`the probe finished as ${execution.status}`)
    await released
    return enqueueWaitMs
  })
  return { locked: locked.delay, control: control.delay, enqueueWaitMs: locked.value }
}

/** The scenario for bench/run.ts: needs a file another process can open. */
export const lockWait: Scenario["run"] = async (ctx: ScenarioContext): Promise<ReadonlyArray<Figure>> => {
  const opened = await ctx.open()
  const shared: SharedStorage | undefined = opened.shared
  if (shared?.kind !== "sqlite") throw new Error("lock-wait needs a SQLite file")
  const executor = new engine.DurableExecutor(opened.storage, { logLevel: "warning" })
  try {
    const { control, enqueueWaitMs, locked } = await measureOnce(shared.filename, executor)
    const scenario = `lock held by another process for ${HOLD_MS / 1000} s`
    const detail = { samples: locked.samples, enqueueWaitMs: Number(enqueueWaitMs.toFixed(1)), control }
    const figure = (metric: string, value: number, target?: Figure["target"]): Figure => ({
      backend: ctx.backend,
      scenario,
      metric,
      value,
      unit: "ms",
      target,
      detail
    })
    return [
      figure("event-loop delay p50", locked.p50),
      figure("event-loop delay p99", locked.p99, ctx.target("lockWaitP99")),
      figure("event-loop delay max", locked.max),
      figure("1 ms timer delay p99, stalls counted", locked.correctedP99, ctx.target("lockWaitP99")),
      figure("event-loop delay p99, no lock (control)", control.p99),
      figure("1 ms timer delay p99, stalls counted, no lock (control)", control.correctedP99),
      figure("enqueue waited for the lock", enqueueWaitMs)
    ]
  } finally {
    await executor.shutdown()
    await opened.close()
  }
}

const runAlone = async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "durable-tasks-lock-wait-"))
  try {
    const filename = path.join(dir, "lock-wait.db")
    const executor = new engine.DurableExecutor(engine.createSqliteStorage({ filename }), { logLevel: "warning" })
    try {
      const { control, enqueueWaitMs, locked } = await measureOnce(filename, executor)
      const show = (d: Delay) =>
        `p50 ${d.p50.toFixed(1)} ms, p99 ${d.p99.toFixed(1)} ms, max ${d.max.toFixed(1)} ms (${d.samples} samples); ` +
        `1 ms timer delay p99 with stalls counted ${d.correctedP99.toFixed(1)} ms`
      console.log(`lock wait (${process.env["DURABLE_TASKS_BENCH_ENGINE"] ?? engineSource})`)
      console.log(`  lock held ${HOLD_MS} ms by another process: event-loop delay ${show(locked)}`)
      console.log(`  enqueue waited ${enqueueWaitMs.toFixed(0)} ms for the lock`)
      console.log(`  control, no lock held: event-loop delay ${show(control)}`)
    } finally {
      await executor.shutdown()
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  runAlone().catch((e: unknown) => {
    console.error(e)
    process.exit(1)
  })
}
