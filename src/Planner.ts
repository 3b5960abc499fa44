/**
 * The state machine, as one pure module. Given the row an event touches and the event, it returns
 * either a rejection or a step: the updated row, rows to insert, and follow-up events for other rows
 * (a parent to notify, children to cancel). No I/O and no clock: time comes in on the event.
 * Every storage backend applies steps through {@link ./StorageDriver}; none re-implements the rules.
 *
 * @since 0.1.0
 */
import type { ExecutionError, ExecutionRow, TaskSpec } from "./ExecutionRow.js"
import { makeReady, makeSleeping } from "./ExecutionRow.js"
import { recordAttempt } from "./internal/AttemptHistory.js"
import { childrenOutputsJson, objectJson } from "./internal/ValueJson.js"
import * as Looping from "./Looping.js"
import * as PlannerRetry from "./PlannerRetry.js"
import * as RetryOptions from "./RetryOptions.js"
import { isFinished, type TaskStatus } from "./TaskStatus.js"

export type { Event, FollowUp, Rejected, Step } from "./PlannerEvents.js"
import type { Event, FollowUp, Rejected, Step } from "./PlannerEvents.js"

const none: ReadonlyArray<never> = []
const noop: Step = { _tag: "Step", row: undefined, inserts: none, followUps: none }
const reject = (reason: Rejected["reason"], message: string): Rejected => ({ _tag: "Rejected", reason, message })
const step = (
  row: ExecutionRow,
  inserts: ReadonlyArray<ExecutionRow> = none,
  followUps: ReadonlyArray<FollowUp> = none
): Step => ({
  _tag: "Step",
  row,
  inserts,
  followUps
})

/**
 * True when the event for `row` needs every child row loaded (the last child succeeded). @since 0.1.0 @category utils
 */
export const needsChildren = (row: ExecutionRow, event: Event): boolean =>
  event._tag === "Retry" ? PlannerRetry.needsChildren(row) : event._tag === "ChildSucceeded" &&
    row.status === "waiting_for_children_tasks" && row.completedChildren + 1 >= row.children.length

/** True when a runner holding `leaseId` may write to `row`. @since 0.1.0 @category predicates */
export const holdsLease = (row: ExecutionRow, leaseId: string): boolean =>
  row.status === "running" && row.leaseId === leaseId

/** The parent's own notification when `row` reaches a finished status. */
const closure = (row: ExecutionRow, nowMs: number): ReadonlyArray<FollowUp> => {
  if (row.parentExecutionId === null) return none
  if (row.isFinalize) {
    return [{ executionId: row.parentExecutionId, event: { _tag: "FinalizeFinished", nowMs, finalize: row } }]
  }
  return row.status === "completed"
    ? [{
      executionId: row.parentExecutionId,
      event: { _tag: "ChildSucceeded", nowMs, childExecutionId: row.executionId }
    }]
    : [{ executionId: row.parentExecutionId, event: { _tag: "ChildFailed", nowMs, child: row } }]
}

/** Cancels every active descendant reachable from `row` (its children and its finalize task). */
const cancelDescendants = (row: ExecutionRow, nowMs: number, reason: string): ReadonlyArray<FollowUp> => {
  const ids: Array<string> = []
  if (row.status === "waiting_for_children_tasks") { for (const c of row.children) ids.push(c.executionId) }
  if (row.status === "waiting_for_finalize_task" && row.finalizeExecutionId !== null) ids.push(row.finalizeExecutionId)
  return ids.map((executionId) => ({ executionId, event: { _tag: "Cancel", nowMs, reason } }))
}

/** Moves `row` to a finished status, with its consequences (descendants cancelled, parent told). */
const finish = (
  row: ExecutionRow,
  nowMs: number,
  status: TaskStatus,
  fields: {
    readonly output?: string | null
    readonly error?: ExecutionError | null
    readonly needsPromiseCancellation?: boolean
  }
): Step => {
  const next: ExecutionRow = {
    ...row,
    status,
    isClosed: true,
    output: fields.output ?? null,
    error: fields.error ?? null,
    needsPromiseCancellation: fields.needsPromiseCancellation ?? false,
    leaseId: null,
    executorId: status === "cancelled" ? row.executorId : null,
    expiresAt: null,
    finishedAt: nowMs,
    updatedAt: nowMs
  }
  if (status === "completed") return step(next, none, closure(next, nowMs))
  const reason = `parent task '${row.taskId}' (execution ${row.executionId}) finished with status ${status}`
  return step(next, none, [...cancelDescendants(row, nowMs, reason), ...closure(next, nowMs)])
}

/** After `run` succeeded or the last child completed: insert the finalize task, or complete. */
const afterChildren = (
  row: ExecutionRow,
  nowMs: number,
  childrenRows: ReadonlyArray<ExecutionRow>,
  isParent = true
): Step => {
  const finalize = finalizeWithId(row)
  if (finalize !== null) {
    const input = objectJson([["input", row.input], ["output", row.runOutput], [
      "childrenTasksOutputs",
      childrenOutputsJson(childrenRows)
    ]])
    const finalizeRow = makeReady({
      spec: finalize,
      executionId: finalize.executionId,
      input,
      nowMs,
      parent: { row, index: -1, isFinalize: true }
    })
    return step(
      {
        ...row,
        status: "waiting_for_finalize_task",
        finalizeExecutionId: finalize.executionId,
        leaseId: null,
        executorId: null,
        expiresAt: null,
        updatedAt: nowMs
      },
      [finalizeRow]
    )
  }
  if (!isParent) return finish(row, nowMs, "completed", { output: row.runOutput })
  return finish(row, nowMs, "completed", {
    output: objectJson([["output", row.runOutput], ["childrenOutputs", childrenOutputsJson(childrenRows)]])
  })
}

const finalizeWithId = (row: ExecutionRow): (TaskSpec & { readonly executionId: string }) | null =>
  row.finalize === null ? null : { ...row.finalize, executionId: finalizeExecutionIdFor(row.executionId) }

/**
 * The finalize execution's id is derived from its parent's, so that a retried finish or a replay
 * cannot insert two finalize executions.
 *
 * @since 0.1.0
 * @category utils
 */
export const finalizeExecutionIdFor = (parentExecutionId: string): string => `${parentExecutionId}_f`

/** A failed attempt: retry when retryable and attempts are left, else finish. */
const failAttempt = (row: ExecutionRow, nowMs: number, error: ExecutionError, finalStatus: TaskStatus): Step => {
  if (error.isRetryable && row.retryAttempts < row.retry.maxAttempts) {
    return step({
      ...row,
      status: "ready",
      retryAttempts: row.retryAttempts + 1,
      prevError: error,
      startAt: nowMs + RetryOptions.delayMs(row.retry, row.retryAttempts),
      leaseId: null,
      executorId: null,
      expiresAt: null,
      updatedAt: nowMs
    })
  }
  return finish(row, nowMs, finalStatus, { error })
}

/**
 * The transition function: `(row, event) → step | rejection`. A step that ends a running row's
 * attempt (its run succeeded, failed or timed out, its lease expired, it was cancelled) records the
 * attempt in the row's history; a release (shutdown) hands the claim back without one.
 *
 * @since 0.1.0
 * @category transitions
 */
export const transition = (row: ExecutionRow, event: Event): Step | Rejected => {
  const outcome = transitionOf(row, event)
  if (
    row.status !== "running" || event._tag === "Release" || outcome._tag !== "Step" || outcome.row === undefined ||
    outcome.row.status === "running"
  ) return outcome
  return {
    ...outcome,
    row: recordAttempt(row, outcome.row, event.nowMs, event._tag === "RunFailed" ? event.error : undefined)
  }
}

const transitionOf = (row: ExecutionRow, event: Event): Step | Rejected => {
  switch (event._tag) {
    case "Claim": {
      if (row.status !== "ready") return reject("not_ready", `execution ${row.executionId} is ${row.status}, not ready`)
      if (row.startAt > event.nowMs) {
        return reject("not_due", `execution ${row.executionId} is not due before ${row.startAt}`)
      }
      return step({
        ...row,
        status: "running",
        leaseId: event.leaseId,
        executorId: event.executorId,
        expiresAt: event.nowMs + row.timeoutMs + event.leaseLeewayMs,
        startedAt: row.startedAt ?? event.nowMs,
        updatedAt: event.nowMs
      })
    }
    case "RunSucceeded": {
      if (!holdsLease(row, event.leaseId)) {
        return reject("stale_lease", `lease ${event.leaseId} is not current for ${row.executionId}`)
      }
      const running = { ...row, runOutput: event.runOutput, finalize: event.finalize }
      if (event.children.length === 0) return afterChildren(running, event.nowMs, [], event.isParent ?? false)
      const waiting: ExecutionRow = {
        ...running,
        status: "waiting_for_children_tasks",
        children: event.children.map((c) => ({ taskId: c.taskId, executionId: c.executionId })),
        completedChildren: 0,
        loop: event.loop === undefined ? row.loop : { ...event.loop, iteration: 1 },
        leaseId: null,
        executorId: null,
        expiresAt: null,
        updatedAt: event.nowMs
      }
      const inserts = event.children.map((c, index) =>
        (c.sleepId === undefined ? makeReady : sleepingChild(c.sleepId))({
          spec: c,
          executionId: c.executionId,
          input: c.input,
          nowMs: event.nowMs,
          parent: { row: waiting, index, isFinalize: false },
          traceContext: c.traceContext
        })
      )
      return step(waiting, inserts)
    }
    case "RunFailed": {
      if (!holdsLease(row, event.leaseId)) {
        return reject("stale_lease", `lease ${event.leaseId} is not current for ${row.executionId}`)
      }
      return failAttempt(row, event.nowMs, event.error, event.timedOut ? "timed_out" : "failed")
    }
    case "Release": {
      if (!holdsLease(row, event.leaseId)) {
        return reject("stale_lease", `lease ${event.leaseId} is not current for ${row.executionId}`)
      }
      return step({
        ...row,
        status: "ready",
        leaseId: null,
        executorId: null,
        expiresAt: null,
        startAt: event.nowMs,
        updatedAt: event.nowMs
      })
    }
    case "LeaseExpired": {
      if (row.status !== "running") {
        return reject("not_running", `execution ${row.executionId} is ${row.status}, not running`)
      }
      if (row.expiresAt === null || row.expiresAt > event.nowMs) {
        return reject("not_expired", `the lease of ${row.executionId} lasts until ${String(row.expiresAt)}`)
      }
      if (row.sleepId !== null) return finish(row, event.nowMs, "timed_out", { error: sleepTimedOut(row) })
      const error: ExecutionError = {
        errorType: "timed_out",
        message: `task '${row.taskId}' lease expired: its executor stopped without finishing the run`,
        isRetryable: true
      }
      return failAttempt(row, event.nowMs, error, "timed_out")
    }
    case "Cancel": {
      if (isFinished(row.status)) return noop
      return finish(row, event.nowMs, "cancelled", {
        error: { errorType: "cancelled", message: event.reason, isRetryable: false },
        needsPromiseCancellation: row.status === "running" && row.sleepId === null
      })
    }
    case "ChildSucceeded": {
      if (row.status !== "waiting_for_children_tasks") return noop
      const completed = row.completedChildren + 1
      const counted: ExecutionRow = { ...row, completedChildren: completed, updatedAt: event.nowMs }
      if (completed < row.children.length) return step(counted)
      const rows = event.childrenRows ?? []
      const byId = new Map(rows.map((r) => [r.executionId, r] as const))
      const ordered = row.children.map((c) => byId.get(c.executionId))
      if (ordered.some((r) => r === undefined || r.status !== "completed")) {
        // The driver did not supply every completed child: count only (cannot happen with a correct driver).
        return step(counted)
      }
      if (row.loop !== null) return Looping.afterIteration(counted, ordered[0]!, event.nowMs, finish)
      return afterChildren(counted, event.nowMs, ordered as ReadonlyArray<ExecutionRow>)
    }
    case "ChildFailed": {
      if (row.status !== "waiting_for_children_tasks") return noop
      const child = event.child
      const cause = child.error ? `: ${child.error.message}` : ""
      return finish(row, event.nowMs, "children_tasks_failed", {
        error: {
          errorType: "generic",
          message: `child task '${child.taskId}' (execution ${child.executionId}, index ${child.indexInParent}) ` +
            `finished with status ${child.status}${cause}`,
          isRetryable: false
        }
      })
    }
    case "Retry":
      return PlannerRetry.retry(row, event, afterChildren)
    case "FinalizeFinished": {
      if (row.status !== "waiting_for_finalize_task") return noop
      const f = event.finalize
      if (f.status === "completed") return finish(row, event.nowMs, "completed", { output: f.output })
      const cause = f.error ? `: ${f.error.message}` : ""
      return finish(row, event.nowMs, "finalize_task_failed", {
        error: {
          errorType: "generic",
          message: `finalize task '${f.taskId}' (execution ${f.executionId}) finished with status ${f.status}${cause}`,
          isRetryable: false
        }
      })
    }
    case "Wakeup": {
      if (row.sleepId === null) {
        return reject("not_sleeping", `execution ${row.executionId} of task '${row.taskId}' is not sleeping`)
      }
      if (row.status !== "running") {
        return reject("not_running", `sleeping execution ${row.executionId} already finished as ${row.status}`)
      }
      return event.outcome.status === "completed"
        ? finish(row, event.nowMs, "completed", { output: event.outcome.output })
        : finish(row, event.nowMs, "failed", { error: { ...event.outcome.error, isRetryable: false } })
    }
  }
}

const sleepingChild = (sleepId: string) => (args: Parameters<typeof makeReady>[0]): ExecutionRow =>
  makeSleeping({ ...args, sleepId })

const sleepTimedOut = (row: ExecutionRow): ExecutionError => ({
  errorType: "timed_out",
  message: `sleeping task '${row.taskId}' (sleep id ${JSON.stringify(row.sleepId)}) was not woken up within ` +
    `${row.timeoutMs}ms`,
  isRetryable: false
})
