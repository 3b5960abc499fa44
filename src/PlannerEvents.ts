/**
 * The planner's vocabulary: the events that move an execution ({@link Event}), and what a transition
 * returns: a {@link Step} (the updated row, rows to insert, follow-ups for other rows) or a
 * {@link Rejected}. The rules themselves are in {@link ./Planner}.
 *
 * @since 0.1.0
 */
import type { ExecutionError, ExecutionRow, NewChild, TaskSpec } from "./ExecutionRow.js"
import type * as PlannerRetry from "./PlannerRetry.js"

/** @since 0.1.0 @category models */
export type Event =
  | {
    readonly _tag: "Claim"
    readonly nowMs: number
    readonly leaseId: string
    readonly executorId: string
    readonly leaseLeewayMs: number
  }
  | {
    readonly _tag: "RunSucceeded"
    readonly nowMs: number
    readonly leaseId: string
    readonly runOutput: string | null
    readonly children: ReadonlyArray<NewChild>
    /** The finalize task to run after the children; its execution id derives from this one's. */
    readonly finalize: TaskSpec | null
    /** A parent task: without a finalize task its output is `{ output, childrenOutputs }`, also with no children. */
    readonly isParent?: boolean
    /** A looping task: its one child is the first iteration (see `Looping.ts`). */
    readonly loop?: { readonly maxAttempts: number; readonly sleepMs: number } | undefined
  }
  | {
    readonly _tag: "RunFailed"
    readonly nowMs: number
    readonly leaseId: string
    readonly error: ExecutionError
    readonly timedOut: boolean
  }
  | { readonly _tag: "Release"; readonly nowMs: number; readonly leaseId: string }
  | { readonly _tag: "LeaseExpired"; readonly nowMs: number }
  | { readonly _tag: "Cancel"; readonly nowMs: number; readonly reason: string }
  | {
    readonly _tag: "ChildSucceeded"
    readonly nowMs: number
    readonly childExecutionId: string
    /** Every child row, supplied by the driver when `Planner.needsChildren` says so. */
    readonly childrenRows?: ReadonlyArray<ExecutionRow>
  }
  | { readonly _tag: "ChildFailed"; readonly nowMs: number; readonly child: ExecutionRow }
  | { readonly _tag: "FinalizeFinished"; readonly nowMs: number; readonly finalize: ExecutionRow }
  | PlannerRetry.RetryEvent
  | {
    /** A wakeup of a sleeping execution: it completes with `output` or fails with `error`. */
    readonly _tag: "Wakeup"
    readonly nowMs: number
    readonly outcome:
      | { readonly status: "completed"; readonly output: string | null }
      | { readonly status: "failed"; readonly error: ExecutionError }
  }

/** A follow-up event for another row, applied in the same transaction. @since 0.1.0 @category models */
export interface FollowUp {
  readonly executionId: string
  readonly event: Event
}

/** @since 0.1.0 @category models */
export interface Step {
  readonly _tag: "Step"
  /** The updated row, or undefined when the event changes nothing (an absorbed no-op). */
  readonly row: ExecutionRow | undefined
  readonly inserts: ReadonlyArray<ExecutionRow>
  readonly followUps: ReadonlyArray<FollowUp>
}

/** @since 0.1.0 @category models */
export interface Rejected {
  readonly _tag: "Rejected"
  readonly reason:
    | "stale_lease"
    | "not_due"
    | "not_running"
    | "not_ready"
    | "not_expired"
    | "not_retryable"
    | "not_sleeping"
  readonly message: string
}
