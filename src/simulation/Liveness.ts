/**
 * The liveness bound of DESIGN.md §3, checked once faults stop: every execution ready or running
 * must leave those statuses within its own bound.
 *
 * @since 0.1.0
 */
import type { ExecutionRow } from "../ExecutionRow.js"
import * as RetryOptions from "../RetryOptions.js"

/** Settings of the liveness bound. @since 0.1.0 @category models */
export interface LivenessBound {
  /** True time when faults stopped. */
  readonly fromMs: number
  /** Largest forward clock offset any process had: leases and start times it wrote lie that much later. */
  readonly offsetAllowanceMs: number
  /** Largest poll interval and lease leeway of any process. */
  readonly pollIntervalMs: number
  readonly leaseLeewayMs: number
  /** Work already in flight when faults stopped: slow calls and finish retries. */
  readonly slackMs: number
}

/**
 * The time an execution may spend ready or running once faults stopped, from DESIGN.md §3:
 * `(maxAttempts + 1) × (timeout + leeway + max backoff) + poll interval`.
 *
 * @since 0.1.0
 * @category utils
 */
export const ownPhaseBoundMs = (
  row: ExecutionRow,
  bound: Pick<LivenessBound, "pollIntervalMs" | "leaseLeewayMs">
): number => {
  const maxBackoff = row.retry.maxAttempts > 0 ? RetryOptions.delayMs(row.retry, row.retry.maxAttempts - 1) : 0
  return (row.retry.maxAttempts + 1) * (row.timeoutMs + bound.leaseLeewayMs + maxBackoff) + bound.pollIntervalMs
}

/**
 * The deadline by which `row` (ready or running) must have left those statuses: its own bound from
 * when faults stopped (or from its insert, if later), plus the clock allowance and slack.
 *
 * @since 0.1.0
 * @category utils
 */
export const deadlineMs = (row: ExecutionRow, bound: LivenessBound, insertedAtMs: number): number =>
  Math.max(bound.fromMs + bound.offsetAllowanceMs, insertedAtMs) + ownPhaseBoundMs(row, bound) + bound.slackMs
