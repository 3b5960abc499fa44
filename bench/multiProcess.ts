/**
 * Multi-process scenario: two executor processes (bench/worker.ts) share one storage; this process
 * only enqueues and waits (its executor is never started). Measures flat throughput across the
 * processes and cross-process enqueue → start latency.
 */
import { type ChildProcess, fork } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { DurableExecutor, DurableTask } from "../src/index.js"
import { engine } from "./engine.js"
import { enqueueAll, executorOptions, type Figure, measure, type Scenario, waitAll } from "./scenarios.js"
import { epochMs, nowMs, percentile, sleep } from "./stats.js"

const TIMEOUT_MS = 600_000

/** The tasks both sides register: a trivial one, and a probe whose output is its start time (epoch ms). */
export const defineMultiProcessTasks = (executor: DurableExecutor): {
  readonly trivial: DurableTask<number, number>
  readonly probe: DurableTask<number, number>
} => ({
  trivial: executor.task({ id: "mp_trivial", timeoutMs: TIMEOUT_MS, run: (_ctx, n: number) => n }),
  probe: executor.task({ id: "mp_probe", timeoutMs: TIMEOUT_MS, run: () => epochMs() })
})

const startWorker = (env: Record<string, string>): Promise<ChildProcess> =>
  new Promise((resolve, reject) => {
    const here = path.dirname(fileURLToPath(import.meta.url))
    const child = fork(path.join(here, "worker.ts"), [], {
      execArgv: ["--import", "tsx"],
      env: { ...process.env, ...env },
      stdio: ["ignore", "inherit", "inherit", "ipc"]
    })
    child.once("error", reject)
    child.once("exit", (code) => reject(new Error(`worker exited early with code ${String(code)}`)))
    child.once("message", (message) => {
      if (message === "ready") resolve(child)
    })
  })

const stopWorker = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null) return resolve()
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000)
    child.removeAllListeners("exit")
    child.once("exit", () => {
      clearTimeout(timer)
      resolve()
    })
    child.send("stop")
  })

/** Flat throughput and cross-process start latency with `processes` executor processes. */
export const multiProcess = (processes: number): Scenario["run"] => async (ctx) => {
  const opened = await ctx.open()
  if (opened.shared === undefined) throw new Error(`${ctx.backend} cannot be shared between processes`)
  const executor = new engine.DurableExecutor(opened.storage, executorOptions)
  const { trivial, probe } = defineMultiProcessTasks(executor)
  const workers: Array<ChildProcess> = []
  try {
    const env = { DURABLE_TASKS_BENCH_STORAGE: JSON.stringify(opened.shared) }
    workers.push(...(await Promise.all(Array.from({ length: processes }, () => startWorker(env)))))
    const inputs = (n: number) => Array.from({ length: n }, (_, i) => i)
    const flat = await measure(ctx, async () => {
      const t0 = nowMs()
      await waitAll(await enqueueAll(executor, trivial, inputs(ctx.sizes.flat), "batch"))
      return { executions: ctx.sizes.flat, wallMs: nowMs() - t0, cpuUsPerExecution: Number.NaN }
    })

    const toStart: Array<number> = []
    const toDone: Array<number> = []
    for (let i = -10; i < ctx.sizes.latencySamples; i++) {
      await sleep(5)
      const sent = epochMs()
      const execution = await (await executor.enqueueTask(probe, i)).waitAndGetExecution()
      const done = epochMs()
      if (i < 0) continue
      toStart.push((execution.output as number) - sent)
      toDone.push(done - sent)
    }
    const scenario = `${processes} executor processes`
    const fig = (
      metric: string,
      value: number,
      unit: string,
      key?: string,
      detail?: Record<string, unknown>
    ): Figure => ({
      backend: ctx.backend,
      scenario,
      metric,
      value,
      unit,
      target: key === undefined ? undefined : ctx.target(key),
      detail
    })
    return [
      fig("flat executions/s", flat.rate, "/s", "mpFlat", { executions: ctx.sizes.flat, wallMs: flat.wallMs }),
      fig("enqueue→start p50 (cross-process)", percentile(toStart, 50), "ms", "mpStartP50", {
        samples: toStart.length
      }),
      fig("enqueue→start p99 (cross-process)", percentile(toStart, 99), "ms"),
      fig("enqueue→completed p50 (cross-process)", percentile(toDone, 50), "ms")
    ]
  } finally {
    await Promise.all(workers.map(stopWorker))
    await executor.shutdown()
    await opened.close()
  }
}
