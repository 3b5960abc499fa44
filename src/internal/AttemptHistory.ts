/**
 * An execution's attempt history: each ended attempt (start, end, executor, the status it left, its
 * error with a bounded stack), the last {@link ATTEMPTS_KEPT} kept, with the total count.
 */
import type { ExecutionError, ExecutionRow } from "../ExecutionRow.js"
import { ATTEMPTS_KEPT, STACK_MAX_CHARS } from "../ExecutionRow.js"

/** The error without its stack (a row's `error` and `prevError` keep none; the attempt history does). */
export const withoutStack = (error: ExecutionError | null): ExecutionError | null => {
  if (error === null || error.stack === undefined) return error
  const { stack: _, ...rest } = error
  return rest
}

/**
 * `after`, the row a running `before` became when its attempt ended, with that attempt recorded: it
 * started at the claim (a running row is written by nothing but its claim until its attempt ends,
 * so its `updatedAt` is the claim's time), ran on `before.executorId`, and ended as `after.status` at
 * `nowMs`; `thrown` is the run's own error when the attempt failed (it keeps its stack, bounded).
 */
export const recordAttempt = (
  before: ExecutionRow,
  after: ExecutionRow,
  nowMs: number,
  thrown: ExecutionError | undefined
): ExecutionRow => {
  const raw = thrown !== undefined ? thrown : after.status === "ready" ? after.prevError : after.error
  const error = raw === null || raw.stack === undefined || raw.stack.length <= STACK_MAX_CHARS
    ? raw
    : { ...raw, stack: raw.stack.slice(0, STACK_MAX_CHARS) }
  const total = (before.attempts?.total ?? 0) + 1
  const attempt = {
    attempt: total,
    startedAt: before.updatedAt,
    finishedAt: nowMs,
    executorId: before.executorId,
    status: after.status,
    ...(error === null ? {} : { error })
  }
  const kept = before.attempts?.recent ?? []
  const recent = kept.length < ATTEMPTS_KEPT ? [...kept, attempt] : [...kept.slice(1 - ATTEMPTS_KEPT), attempt]
  return {
    ...after,
    error: withoutStack(after.error),
    prevError: withoutStack(after.prevError),
    attempts: { total, recent }
  }
}
