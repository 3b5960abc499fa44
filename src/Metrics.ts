/**
 * The engine's metrics, as Effect `Metric`s with OpenTelemetry-style names: `@effect/opentelemetry`'s
 * metrics layer (or `Metric.snapshot`) exports them. Each is tagged `task_id` (and `status`,
 * `outcome` or `executor_id` where said). They are counted in the process that did the work:
 * enqueues and finishes where the storage write committed, starts and attempts in the executor that ran them.
 *
 * @since 0.1.0
 */
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as MetricKey from "effect/MetricKey"

const msBoundaries = MetricBoundaries.exponential({ start: 1, factor: 2, count: 20 })

/** The metrics' keys (the engine updates their hooks directly). @since 0.1.0 @category keys */
export const keys = {
  enqueued: MetricKey.counter("durable_tasks.executions.enqueued", {
    description: "Task executions enqueued",
    incremental: true
  }),
  started: MetricKey.counter("durable_tasks.executions.started", {
    description: "Task execution attempts started",
    incremental: true
  }),
  finished: MetricKey.counter("durable_tasks.executions.finished", {
    description: "Task executions finished, by status",
    incremental: true
  }),
  attempts: MetricKey.counter("durable_tasks.attempts", {
    description: "Task execution attempts that ended, by outcome",
    incremental: true
  }),
  queueWait: MetricKey.histogram(
    "durable_tasks.executions.queue_wait_ms",
    msBoundaries,
    "Milliseconds from due to started"
  ),
  runDuration: MetricKey.histogram("durable_tasks.attempts.duration_ms", msBoundaries, "Milliseconds an attempt ran")
}

/** Executions stored: roots, children and finalize executions. Tag `task_id`. @since 0.1.0 @category metrics */
export const enqueued = Metric.fromMetricKey(keys.enqueued)

/** Attempts started (claimed by an executor). Tag `task_id`. @since 0.1.0 @category metrics */
export const started = Metric.fromMetricKey(keys.started)

/**
 * Executions that reached a finished status. Tags `task_id`, `status` (`completed`, `failed`, …).
 *
 * @since 0.1.0
 * @category metrics
 */
export const finished = Metric.fromMetricKey(keys.finished)

/**
 * Attempts that ended in a runner, by outcome. Tags `task_id`, `outcome` (`succeeded`, `failed`, `interrupted`,
 * `timed_out`). Attempts lost with their process (a lapsed lease) are not counted here.
 *
 * @since 0.1.0
 * @category metrics
 */
export const attempts = Metric.fromMetricKey(keys.attempts)

/** Milliseconds from an attempt's due time to its start. Tag `task_id`. @since 0.1.0 @category metrics */
export const queueWait = Metric.fromMetricKey(keys.queueWait)

/** Milliseconds an attempt ran. Tag `task_id`. @since 0.1.0 @category metrics */
export const runDuration = Metric.fromMetricKey(keys.runDuration)

/**
 * Executions running now in an executor (sampled each poll interval). Tag `executor_id`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const running = Metric.gauge("durable_tasks.executions.running", {
  description: "Task executions running in an executor"
})
