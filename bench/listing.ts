/**
 * Scenario `list` (SQLite and Postgres): `listExecutions` with a filter over many stored rows (1,000,000;
 * 100,000 with --quick), in ms per page of 100 (the first page and the pages after it through the
 * cursor), and `purgeExecutions` throughput in deleted rows per second. The rows are written through
 * the storage port in batches of 20,000 (one transaction and one multi-row INSERT each, as a batch of
 * enqueues would, without running them): ten task ids, 1% failed,
 * the rest completed, one row a millisecond. Postgres is analyzed after the load.
 */
import * as Effect from "effect/Effect"
import { type ExecutionRow, makeReady } from "../src/ExecutionRow.js"
import { TaskStorage } from "../src/TaskStorage.js"
import { runAdmin } from "./backends.js"
import { engine } from "./engine.js"
import type { Figure, ScenarioContext } from "./scenarios.js"
import { nowMs, percentile } from "./stats.js"

/** Rows per insert: one transaction and one multi-row INSERT (unnest / json_each) each. */
const BATCH = 20_000
const PAGES = 20
const PURGED = 20_000

const spec = (taskId: string) => ({
  taskId,
  timeoutMs: 1_000,
  retry: { maxAttempts: 0, baseDelayMs: 0, delayMultiplier: 1, maxDelayMs: 0 },
  sleepMsBeforeRun: 0
})

const rowAt = (i: number): ExecutionRow => {
  const failed = i % 100 === 7
  return {
    ...makeReady({
      spec: spec(`task${i % 10}`),
      executionId: `te_${String(i).padStart(8, "0")}`,
      input: "1",
      nowMs: i
    }),
    status: failed ? "failed" : "completed",
    isClosed: true,
    output: failed ? null : "1",
    error: failed ? { errorType: "generic", message: "boom", isRetryable: true } : null,
    finishedAt: i + 1
  }
}

/** ms per page: the first, and the median of the following ones. */
const pages = async (list: (cursor: string | undefined) => Promise<{ readonly nextCursor: string | null }>) => {
  const times: Array<number> = []
  let cursor: string | undefined
  for (let p = 0; p < PAGES; p++) {
    const started = nowMs()
    const page = await list(cursor)
    times.push(nowMs() - started)
    if (page.nextCursor === null) break
    cursor = page.nextCursor
  }
  return { first: times[0]!, later: percentile(times.slice(1), 50) }
}

/** @since 0.1.0 */
export const listing = async (ctx: ScenarioContext): Promise<ReadonlyArray<Figure>> => {
  const rows = ctx.sizes.flat >= 10_000 ? 1_000_000 : 100_000
  const opened = await ctx.open()
  const executor = new engine.DurableExecutor(opened.storage, { logLevel: "warning" })
  try {
    const started = nowMs()
    await Effect.runPromise(
      Effect.gen(function*() {
        const port = yield* TaskStorage
        for (let from = 0; from < rows; from += BATCH) {
          yield* port.insert(Array.from({ length: Math.min(BATCH, rows - from) }, (_, k) => rowAt(from + k)))
        }
      }).pipe(Effect.scoped, Effect.provide(opened.storage.layer))
    )
    // As autovacuum would after such a load: without statistics, Postgres plans a bitmap scan and a
    // sort of every row of the task (20–40 ms a page at 100,000 rows) instead of walking the index.
    if (opened.shared?.kind === "postgres") await runAdmin(opened.shared.connectionString, "ANALYZE")
    const loadMs = nowMs() - started
    // Warm-up: one listing of each kind.
    await executor.listExecutions({ status: "failed" })
    await executor.listExecutions({ taskId: "task3" })
    const byStatus = await pages((cursor) => executor.listExecutions({ status: "failed", limit: 100, cursor }))
    const byTask = await pages((cursor) => executor.listExecutions({ taskId: "task3", limit: 100, cursor }))
    const all = await pages((cursor) => executor.listExecutions({ limit: 100, cursor }))
    const purgeStarted = nowMs()
    const deleted = await executor.purgeExecutions({ finishedBefore: PURGED + 1 })
    const purgeMs = nowMs() - purgeStarted
    const scenario = `${rows.toLocaleString("en-US")} rows`
    const detail = {
      rows,
      loadMs: Math.round(loadMs),
      loadRowsPerS: Math.round(rows / (loadMs / 1_000)),
      pages: PAGES,
      pageSize: 100
    }
    const figure = (metric: string, value: number, unit: string): Figure => ({
      backend: ctx.backend,
      scenario,
      metric,
      value: Number(value.toFixed(2)),
      unit,
      detail,
      ...(unit === "ms" ? { target: { op: "<=", value: 10 } } : {})
    })
    return [
      figure("list status=failed, first page", byStatus.first, "ms"),
      figure("list status=failed, next pages (median)", byStatus.later, "ms"),
      figure("list taskId, first page", byTask.first, "ms"),
      figure("list taskId, next pages (median)", byTask.later, "ms"),
      figure("list all, next pages (median)", all.later, "ms"),
      { ...figure("purge", (deleted / purgeMs) * 1_000, "/s"), detail: { ...detail, deleted, purgeMs } }
    ]
  } finally {
    await executor.shutdown()
    await opened.close()
  }
}
