/**
 * Idempotent enqueue (SQLite, Postgres): the cost of an idempotency key. Each round enqueues N
 * trivial executions with `enqueueTasks` (one transaction) without keys, and N with a fresh key each
 * (the insert's `ON CONFLICT … DO NOTHING RETURNING` on the unique index), alternating A B A B on
 * one executor, and times the enqueue call alone (then lets the executions finish). Reports both
 * enqueue rates (medians) and their ratio, the overhead.
 *
 * Part of `npm run bench` (scenario `idempotent`); alone: `npm run bench -- --quick --backend sqlite
 * --scenario idempotent`.
 */
import type { DurableTask } from "../src/index.js"
import { engine } from "./engine.js"
import { executorOptions, type Figure, type ScenarioContext, waitAll } from "./scenarios.js"
import { nowMs, percentile } from "./stats.js"

const TIMEOUT_MS = 600_000

/** The scenario: see the module comment. */
export const idempotent = async (ctx: ScenarioContext): Promise<ReadonlyArray<Figure>> => {
  const opened = await ctx.open()
  const executor = new engine.DurableExecutor(opened.storage, executorOptions)
  try {
    const task: DurableTask<number, number> = executor.task({
      id: "trivial",
      timeoutMs: TIMEOUT_MS,
      run: (_ctx, n: number) => n
    })
    await executor.start()
    const n = ctx.sizes.flat
    const inputs = Array.from({ length: n }, (_, i) => i)
    let round = 0
    /** One enqueue of N, with or without keys: its enqueue time (ms). */
    const once = async (keyed: boolean): Promise<number> => {
      const r = round++
      const t0 = nowMs()
      const handles = await executor.enqueueTasks(
        task,
        inputs,
        keyed ? { idempotencyKey: (_input, i) => `round-${r}-${i}` } : undefined
      )
      const ms = nowMs() - t0
      await waitAll(handles)
      return ms
    }
    await once(false)
    await once(true)
    const plain: Array<number> = []
    const keyed: Array<number> = []
    const pairs = Math.max(3, ctx.sizes.runs * 2)
    for (let i = 0; i < pairs; i++) {
      plain.push(await once(false))
      keyed.push(await once(true))
    }
    const rate = (ms: number) => n / (ms / 1000)
    const plainRate = rate(percentile(plain, 50))
    const keyedRate = rate(percentile(keyed, 50))
    const detail = {
      executionsPerEnqueue: n,
      pairs,
      plainMs: plain.map((ms) => Number(ms.toFixed(1))),
      keyedMs: keyed.map((ms) => Number(ms.toFixed(1)))
    }
    const figure = (metric: string, value: number, unit: string): Figure => ({
      backend: ctx.backend,
      scenario: "idempotent enqueue",
      metric,
      value,
      unit,
      detail
    })
    return [
      figure("enqueue without key", plainRate, "/s"),
      figure("enqueue with key", keyedRate, "/s"),
      figure("key overhead (time with / without)", plainRate / keyedRate, "×")
    ]
  } finally {
    await executor.shutdown()
    await opened.close()
  }
}
