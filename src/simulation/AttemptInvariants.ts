/**
 * Exact attempts and times: every retry counts one attempt and waits exactly its backoff from the
 * failure's time (`min(baseDelayMs × delayMultiplier^n, maxDelayMs)`, computed here, not by the
 * engine's own arithmetic), a retryable failure gives up only once the task's `maxAttempts` is
 * used, stored retry options are the task's, and a claim's lease lasts `timeout + leeway` of the
 * claiming process's settings.
 *
 * @since 0.1.0
 */
import type { ExecutionRow } from "../ExecutionRow.js"
import type { RetryOptions } from "../RetryOptions.js"
import type { TaskDefinition } from "../TaskDefinition.js"
import type { CallInfo } from "./Observe.js"

/**
 * The delay before retry `n` (0-based), written out again so that a bug in the engine's own
 * arithmetic shows.
 *
 * @since 0.1.0
 * @category utils
 */
export const expectedBackoffMs = (retry: RetryOptions, n: number): number =>
  Math.max(0, Math.round(Math.min(retry.baseDelayMs * Math.pow(retry.delayMultiplier, n), retry.maxDelayMs)))

/**
 * The retry options of every task (finalize tasks included), by task id: what stored rows are judged by.
 *
 * @since 0.1.0
 * @category utils
 */
export const retryOptionsOf = (
  definitions: ReadonlyArray<TaskDefinition>
): (taskId: string) => RetryOptions | undefined => {
  const map = new Map<string, RetryOptions>()
  const add = (d: TaskDefinition | undefined): void => {
    if (d === undefined || map.has(d.id)) return
    map.set(d.id, d.spec.retry)
    add(d.finalize)
  }
  definitions.forEach(add)
  return (taskId) => map.get(taskId)
}

const sameRetry = (a: RetryOptions, b: RetryOptions): boolean =>
  a.maxAttempts === b.maxAttempts && a.baseDelayMs === b.baseDelayMs && a.delayMultiplier === b.delayMultiplier &&
  a.maxDelayMs === b.maxDelayMs

/** An inserted row stores its task's retry options. @since 0.1.0 @category checks */
export const checkInserted = (
  row: ExecutionRow,
  expected: RetryOptions | undefined,
  bad: (what: string) => void
): void => {
  if (expected !== undefined && !sameRetry(row.retry, expected)) {
    bad(`stored retry options ${JSON.stringify(row.retry)} differ from its task's ${JSON.stringify(expected)}`)
  }
}

/**
 * A claim's lease lasts the row's timeout plus the claiming process's leeway, from the claim's time.
 *
 * @since 0.1.0
 * @category checks
 */
export const checkClaimed = (
  pre: ExecutionRow,
  row: ExecutionRow,
  call: CallInfo | undefined,
  bad: (what: string) => void
): void => {
  if (call?.nowMs === undefined || call.leaseLeewayMs === undefined) return
  const want = call.nowMs + pre.timeoutMs + call.leaseLeewayMs
  if (row.expiresAt !== want) {
    bad(
      `claimed at ${call.nowMs} with lease until ${String(row.expiresAt)}, but timeout ${pre.timeoutMs} + leeway ` +
        `${call.leaseLeewayMs} of ${call.origin} give ${want}`
    )
  }
}

/** The time of the event that ended the attempt of `pre` (a runner's failure, or the lease expiry). */
const eventTime = (pre: ExecutionRow, call: CallInfo | undefined): number | undefined => {
  if (call?.op === "expire") return call.nowMs
  const command = call?.commands?.find((c) =>
    c.executionId === pre.executionId && c.event._tag === "RunFailed" && c.event.leaseId === pre.leaseId
  )
  return command?.event.nowMs
}

/**
 * One write that ends a running attempt: a retry counts exactly one attempt and starts after
 * exactly its backoff; a retryable failure gives up only with every attempt used.
 *
 * @since 0.1.0
 * @category checks
 */
export const checkAttemptEnd = (
  pre: ExecutionRow,
  row: ExecutionRow,
  call: CallInfo | undefined,
  expected: RetryOptions,
  released: boolean,
  bad: (what: string) => void
): void => {
  if (pre.status !== "running" || released) return
  if (row.status === "ready") {
    if (row.retryAttempts !== pre.retryAttempts + 1) {
      bad(`retried, but retryAttempts went ${pre.retryAttempts} → ${row.retryAttempts}`)
    }
    if (pre.retryAttempts >= expected.maxAttempts) {
      bad(`retried after ${pre.retryAttempts} retries, with maxAttempts ${expected.maxAttempts}`)
    }
    const at = eventTime(pre, call)
    if (at !== undefined) {
      const want = at + expectedBackoffMs(expected, pre.retryAttempts)
      if (row.startAt !== want) {
        bad(
          `retry ${pre.retryAttempts + 1} is due at ${row.startAt}, but the attempt failed at ${at} and its ` +
            `backoff is ${expectedBackoffMs(expected, pre.retryAttempts)} ms (due ${want})`
        )
      }
    }
  } else if ((row.status === "failed" || row.status === "timed_out") && row.error?.isRetryable === true) {
    if (pre.retryAttempts < expected.maxAttempts) {
      bad(`gave up after ${pre.retryAttempts} retries of a retryable error, with maxAttempts ${expected.maxAttempts}`)
    }
  }
}
