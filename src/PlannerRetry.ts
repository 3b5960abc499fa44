/**
 * The planner's retry transition (issue 12, "Retry and redrive"): an execution that finished
 * without success runs again, under the same execution id, with a fresh retry budget. Pure, like
 * {@link ./Planner}, which dispatches the `Retry` event here.
 *
 * - Where the execution stopped decides what runs again: in its run (no children yet) it is `ready`
 *   again; among its children it waits for them again, and every child that did not complete is
 *   retried (completed children keep their outputs and never run again); at its finalize task it
 *   waits for it again, and the finalize task is retried.
 * - A retry the user asked for (`scope: "requested"`) of a non-root execution re-opens its parent
 *   (`scope: "ancestor"`), which re-opens its own parent and retries its other unsuccessful children
 *   (they were cancelled when this one failed), so that the whole tree can complete.
 * - Only a requested retry is fenced: on a row that is not finished without success it is refused
 *   (`not_retryable`, naming the status). A retry reaching a row as a consequence changes nothing
 *   there unless that row finished without success.
 * - The attempt history goes on counting (`attempts.total` keeps its value; the next attempt is
 *   `total + 1`); only the retry budget (`retryAttempts`) starts again from zero.
 *
 * @since 0.1.0
 */
import type { ExecutionRow } from "./ExecutionRow.js"
import type { FollowUp, Rejected, Step } from "./Planner.js"
import { isUnsuccessful } from "./TaskStatus.js"

/** Who asked for a retry of a row. @since 0.1.0 @category models */
export type RetryScope = "requested" | "descendant" | "ancestor"

/** The `Retry` event. @since 0.1.0 @category models */
export interface RetryEvent {
  readonly _tag: "Retry"
  readonly nowMs: number
  readonly scope: RetryScope
  /** Every child row, supplied by the driver when {@link needsChildren} says so. */
  readonly childrenRows?: ReadonlyArray<ExecutionRow>
}

/** True when a retry of `row` needs its children rows loaded (it stopped among its children). @since 0.1.0 */
export const needsChildren = (row: ExecutionRow): boolean =>
  isUnsuccessful(row.status) && row.finalizeExecutionId === null && row.children.length > 0

const none: ReadonlyArray<never> = []

/**
 * The retry of `row`. `afterChildren` is the planner's own step for a parent whose children all
 * completed (a retry finding them so goes on from there).
 *
 * @since 0.1.0
 * @category transitions
 */
export const retry = (
  row: ExecutionRow,
  event: RetryEvent,
  afterChildren: (row: ExecutionRow, nowMs: number, children: ReadonlyArray<ExecutionRow>) => Step
): Step | Rejected => {
  if (!isUnsuccessful(row.status)) {
    if (event.scope !== "requested") return { _tag: "Step", row: undefined, inserts: none, followUps: none }
    return {
      _tag: "Rejected",
      reason: "not_retryable",
      message: `execution ${row.executionId} is ${row.status}: only an execution that finished without success ` +
        "(failed, timed_out, cancelled, children_tasks_failed, finalize_task_failed) can be retried"
    }
  }
  const nowMs = event.nowMs
  const again = (id: string, scope: RetryScope): FollowUp => ({
    executionId: id,
    event: { _tag: "Retry", nowMs, scope }
  })
  const up = row.parentExecutionId !== null && event.scope !== "descendant"
    ? [again(row.parentExecutionId, "ancestor")]
    : none
  const reopened: ExecutionRow = {
    ...row,
    isClosed: false,
    needsPromiseCancellation: false,
    output: null,
    error: null,
    retryAttempts: 0,
    leaseId: null,
    executorId: null,
    expiresAt: null,
    finishedAt: null,
    updatedAt: nowMs
  }
  if (row.finalizeExecutionId !== null) {
    const waiting: ExecutionRow = { ...reopened, status: "waiting_for_finalize_task" }
    return {
      _tag: "Step",
      row: waiting,
      inserts: none,
      followUps: [again(row.finalizeExecutionId, "descendant"), ...up]
    }
  }
  if (row.children.length > 0) {
    const byId = new Map((event.childrenRows ?? []).map((r) => [r.executionId, r] as const))
    const children = row.children.map((c) => byId.get(c.executionId))
    const completed = children.filter((c) => c?.status === "completed").length
    const counted: ExecutionRow = { ...reopened, status: "waiting_for_children_tasks", completedChildren: completed }
    if (completed === children.length) {
      const next = afterChildren(counted, nowMs, children as ReadonlyArray<ExecutionRow>)
      return { ...next, followUps: [...next.followUps, ...up] }
    }
    const down = row.children.filter((_, i) => children[i]?.status !== "completed").map((c) =>
      again(c.executionId, "descendant")
    )
    return { _tag: "Step", row: counted, inserts: none, followUps: [...down, ...up] }
  }
  if (row.sleepId !== null) {
    // A sleeping execution is never run: it sleeps again, for a fresh timeout, until a wakeup.
    const asleep: ExecutionRow = { ...reopened, status: "running", startedAt: nowMs, expiresAt: nowMs + row.timeoutMs }
    return { _tag: "Step", row: asleep, inserts: none, followUps: up }
  }
  const ready: ExecutionRow = { ...reopened, status: "ready", startAt: nowMs, prevError: row.error }
  return { _tag: "Step", row: ready, inserts: none, followUps: up }
}
