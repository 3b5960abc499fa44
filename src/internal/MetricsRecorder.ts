/**
 * Records the engine's {@link ../Metrics} without an effect per update: each task's tagged metrics
 * are made once and kept (a tagged metric made per update cost a key and a hash each time).
 *
 * @since 0.1.0
 */
import * as Metric from "effect/Metric"
import type { ExecutionRow } from "../ExecutionRow.js"
import * as Metrics from "../Metrics.js"

type Counter = Metric.Metric.Counter<number>
type Histogram = typeof Metrics.queueWait

interface TaskMetrics {
  readonly enqueued: Counter
  readonly started: Counter
  readonly queueWait: Histogram
  readonly runDuration: Histogram
  readonly finished: Map<string, Counter>
  readonly attempts: Map<string, Counter>
}

const none: ReadonlyArray<never> = []
const byTask = new Map<string, TaskMetrics>()

const forTask = (taskId: string): TaskMetrics => {
  let metrics = byTask.get(taskId)
  if (metrics === undefined) {
    metrics = {
      enqueued: Metric.tagged(Metrics.enqueued, "task_id", taskId),
      started: Metric.tagged(Metrics.started, "task_id", taskId),
      queueWait: Metric.tagged(Metrics.queueWait, "task_id", taskId),
      runDuration: Metric.tagged(Metrics.runDuration, "task_id", taskId),
      finished: new Map(),
      attempts: new Map()
    }
    byTask.set(taskId, metrics)
  }
  return metrics
}

const tagged = (cache: Map<string, Counter>, base: Counter, taskId: string, key: string, value: string): Counter => {
  let counter = cache.get(value)
  if (counter === undefined) {
    counter = Metric.tagged(Metric.tagged(base, "task_id", taskId), key, value)
    cache.set(value, counter)
  }
  return counter
}

/** Executions stored. @since 0.1.0 */
export const inserted = (rows: ReadonlyArray<ExecutionRow>): void => {
  for (const row of rows) forTask(row.taskId).enqueued.unsafeUpdate(1, none)
}

/** Executions that reached a finished status. @since 0.1.0 */
export const finished = (rows: ReadonlyArray<ExecutionRow>): void => {
  for (const row of rows) {
    tagged(forTask(row.taskId).finished, Metrics.finished, row.taskId, "status", row.status).unsafeUpdate(1, none)
  }
}

/** An attempt started at `nowMs` (claimed; due at `row.startAt`). @since 0.1.0 */
export const started = (row: ExecutionRow, nowMs: number): void => {
  const metrics = forTask(row.taskId)
  metrics.started.unsafeUpdate(1, none)
  metrics.queueWait.unsafeUpdate(Math.max(0, nowMs - row.startAt), none)
}

/** An attempt ended in its runner with `outcome` after `durationMs`. @since 0.1.0 */
export const attemptEnded = (taskId: string, outcome: string, durationMs: number): void => {
  const metrics = forTask(taskId)
  tagged(metrics.attempts, Metrics.attempts, taskId, "outcome", outcome).unsafeUpdate(1, none)
  metrics.runDuration.unsafeUpdate(Math.max(0, durationMs), none)
}
