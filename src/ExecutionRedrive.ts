/**
 * Retry and redrive (issue 12): retry one execution that finished without success, and retry or
 * cancel, in batches, every execution a listing filter matches. Each batch is one storage
 * transaction of planner events (`Retry`, `Cancel`), so every storage applies them the same way;
 * the arguments are checked by {@link ./ExecutionQueries}, which offers these as operations.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { ExecutionNotFound, ExecutionNotRetryable, type StorageError } from "./EngineError.js"
import { FINISHED_STATUSES, TASK_STATUSES, type TaskStatus, UNSUCCESSFUL_STATUSES } from "./TaskStatus.js"
import type { Command, ExecutionQuery, ListPosition, TaskStorage } from "./TaskStorage.js"

/** What a bulk retry did: executions retried, and those matched but left as they were. @since 0.1.0 */
export interface RetryCounts {
  readonly retried: number
  /** Matched the filter but were no longer finished without success (re-opened by another retry, or changed). */
  readonly skipped: number
}

/** What a bulk cancel did: executions cancelled, and those matched but already finished. @since 0.1.0 */
export interface CancelCounts {
  readonly cancelled: number
  readonly skipped: number
}

/** Executions retried or cancelled per transaction. @since 0.1.0 @category constants */
export const REDRIVE_BATCH = 100

/** The statuses a bulk retry takes when its filter names none. @since 0.1.0 @category constants */
export const RETRYABLE_STATUSES: ReadonlyArray<TaskStatus> = [...UNSUCCESSFUL_STATUSES]

/** The statuses a bulk cancel takes when its filter names none. @since 0.1.0 @category constants */
export const CANCELLABLE_STATUSES: ReadonlyArray<TaskStatus> = TASK_STATUSES.filter((s) => !FINISHED_STATUSES.has(s))

/**
 * Retries one execution; fails with ExecutionNotFound, or ExecutionNotRetryable naming its status
 * when it did not finish without success.
 *
 * @since 0.1.0
 * @category utils
 */
export const retryOne = (
  storage: TaskStorage["Type"],
  executionId: string
): Effect.Effect<void, ExecutionNotFound | ExecutionNotRetryable | StorageError> =>
  Effect.gen(function*() {
    const nowMs = yield* Clock.currentTimeMillis
    const { results } = yield* storage.apply([{ executionId, event: { _tag: "Retry", nowMs, scope: "requested" } }])
    const result = results[0]
    if (result === undefined || result._tag === "NotFound") return yield* new ExecutionNotFound({ executionId })
    if (result._tag === "Rejected") {
      const row = yield* storage.get(executionId)
      if (row === undefined) return yield* new ExecutionNotFound({ executionId })
      return yield* new ExecutionNotRetryable({ executionId, status: row.status })
    }
    yield* Effect.logDebug("durable-tasks: retry requested").pipe(Effect.annotateLogs("executionId", executionId))
  })

/**
 * Applies `eventAt(nowMs)` to every execution matching `query` (newest first), a batch per
 * transaction, the next batch after the last one's position; returns how many were changed
 * (`changed(applied, finished, id)`) and how many were left as they were.
 */
const each = (
  storage: TaskStorage["Type"],
  query: ExecutionQuery,
  event: (nowMs: number) => Command["event"],
  changed: (applied: boolean, finished: ReadonlySet<string>, executionId: string) => boolean
): Effect.Effect<{ readonly changed: number; readonly skipped: number }, StorageError> =>
  Effect.gen(function*() {
    let after: ListPosition | undefined = query.after
    let done = 0
    let skipped = 0
    for (;;) {
      const page = yield* storage.listPage({ ...query, after, limit: REDRIVE_BATCH })
      if (page.length === 0) break
      const nowMs = yield* Clock.currentTimeMillis
      const e = event(nowMs)
      const { changes, results } = yield* storage.apply(page.map((r) => ({ executionId: r.executionId, event: e })))
      const finished = new Set(changes.finished)
      page.forEach((r, i) => {
        if (changed(results[i]?._tag === "Applied", finished, r.executionId)) done++
        else skipped++
      })
      if (page.length < REDRIVE_BATCH) break
      const last = page[page.length - 1]!
      after = { createdAt: last.createdAt, executionId: last.executionId }
    }
    return { changed: done, skipped }
  })

/**
 * Retries every execution matching `query` (by default, every one that finished without success).
 *
 * @since 0.1.0
 * @category utils
 */
export const retryAll = (
  storage: TaskStorage["Type"],
  query: ExecutionQuery
): Effect.Effect<RetryCounts, StorageError> =>
  Effect.map(
    each(
      storage,
      { ...query, statuses: query.statuses ?? RETRYABLE_STATUSES },
      (nowMs) => ({ _tag: "Retry", nowMs, scope: "requested" }),
      (applied) => applied
    ),
    (r) => ({ retried: r.changed, skipped: r.skipped })
  )

/**
 * Cancels every execution matching `query` (by default, every unfinished one), with its subtree.
 *
 * @since 0.1.0
 * @category utils
 */
export const cancelAll = (
  storage: TaskStorage["Type"],
  query: ExecutionQuery
): Effect.Effect<CancelCounts, StorageError> =>
  Effect.map(
    each(
      storage,
      { ...query, statuses: query.statuses ?? CANCELLABLE_STATUSES },
      (nowMs) => ({ _tag: "Cancel", nowMs, reason: "cancelled by the user (cancelExecutions)" }),
      (applied, finished, id) => applied && finished.has(id)
    ),
    (r) => ({ cancelled: r.changed, skipped: r.skipped })
  )
