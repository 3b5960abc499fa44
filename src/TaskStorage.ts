/**
 * The storage port: a few atomic domain operations. Each runs as one transaction and applies
 * planner steps ({@link ./Planner}); backends implement {@link ./StorageDriver.Backend} and get
 * this port from {@link ./StorageDriver.make}.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type { DuplicateExecution, StorageError } from "./EngineError.js"
import type { ExecutionRow } from "./ExecutionRow.js"
import type { Event, Rejected } from "./Planner.js"
import type { TaskStatus } from "./TaskStatus.js"

/** One event addressed to one execution. @since 0.1.0 @category models */
export interface Command {
  readonly executionId: string
  readonly event: Event
}

/** What a command did. @since 0.1.0 @category models */
export type CommandResult = { readonly _tag: "Applied" } | Rejected | { readonly _tag: "NotFound" }

/**
 * What changed in one transaction, so that the engine can wake the right waiters:
 * rows that finished, running rows that were cancelled, and rows that became ready.
 *
 * @since 0.1.0
 * @category models
 */
export interface Changes {
  readonly finished: ReadonlyArray<string>
  readonly cancelledRunning: ReadonlyArray<string>
  /** Earliest `startAt` among rows that became ready, or null. */
  readonly readyAtMs: number | null
  /** Optional, for metrics: the rows inserted (children, finalize executions). */
  readonly insertedRows?: ReadonlyArray<ExecutionRow> | undefined
  /** Optional, for metrics: the rows of {@link finished}. */
  readonly finishedRows?: ReadonlyArray<ExecutionRow> | undefined
}

/** @since 0.1.0 @category models */
export interface ApplyResult {
  readonly results: ReadonlyArray<CommandResult>
  readonly changes: Changes
}

/** @since 0.1.0 @category models */
export interface ClaimRequest {
  readonly nowMs: number
  readonly limit: number
  readonly taskIds: ReadonlySet<string>
  readonly executorId: string
  /** Fresh per call; each lease id is `${claimId}:${executionId}`. */
  readonly claimId: string
  readonly leaseLeewayMs: number
}

/**
 * What an insert did: its changes, and per given row (in order) the id of the execution that holds
 * it: the row's own id when it was stored, or the id of the execution stored earlier (by any
 * process, or by an earlier row of the same batch) with the same task id and idempotency key.
 *
 * @since 0.1.0
 * @category models
 */
export interface InsertResult extends Changes {
  readonly executionIds: ReadonlyArray<string>
}

/** Filter for {@link TaskStorage.list}. @since 0.1.0 @category models */
export interface ListQuery {
  readonly status?: ExecutionRow["status"]
  readonly taskId?: string
  readonly rootExecutionId?: string
  readonly limit: number
}

/**
 * @since 0.1.0
 * @category tags
 */
export class TaskStorage extends Context.Tag("durable-tasks/TaskStorage")<TaskStorage, {
  /**
   * Inserts new root executions (each `ready`). Fails with DuplicateExecution on a known execution id;
   * inserts none then. A row with an idempotency key whose `(taskId, idempotencyKey)` is already
   * stored is not inserted and is no error: its entry in `executionIds` names the stored execution.
   * Atomic across concurrent callers (SQL: a unique index decides, not a read before the write).
   */
  readonly insert: (rows: ReadonlyArray<ExecutionRow>) => Effect.Effect<InsertResult, StorageError | DuplicateExecution>
  /** Claims up to `limit` due `ready` executions of the given task ids, oldest `startAt` first. */
  readonly claim: (request: ClaimRequest) => Effect.Effect<ReadonlyArray<ExecutionRow>, StorageError>
  /** Applies events (finishes, cancels, releases) in one transaction, with all their consequences. */
  readonly apply: (commands: ReadonlyArray<Command>) => Effect.Effect<ApplyResult, StorageError>
  /** Moves up to `limit` running executions whose lease lapsed before `nowMs` back to ready (or finished). */
  readonly expire: (
    args: { readonly nowMs: number; readonly limit: number }
  ) => Effect.Effect<ApplyResult, StorageError>
  readonly get: (executionId: string) => Effect.Effect<ExecutionRow | undefined, StorageError>
  readonly getMany: (executionIds: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<ExecutionRow>, StorageError>
  readonly list: (query: ListQuery) => Effect.Effect<ReadonlyArray<ExecutionRow>, StorageError>
  /** Earliest `startAt` of a ready execution of these task ids, and earliest lease expiry; null when none. */
  readonly nextWake: (taskIds: ReadonlySet<string>) => Effect.Effect<
    { readonly readyAtMs: number | null; readonly expiresAtMs: number | null },
    StorageError
  >
  /** One page of executions matching the filter, newest first (`createdAt` desc, `executionId` desc). */
  readonly listPage: (query: ExecutionQuery) => Effect.Effect<ReadonlyArray<ExecutionRow>, StorageError>
  /** How many executions there are per status or per task id (keys without executions left out). */
  readonly countBy: (by: "status" | "taskId") => Effect.Effect<Readonly<Record<string, number>>, StorageError>
  /** The root execution and every execution under it (any order); empty when there is no such root. */
  readonly tree: (rootExecutionId: string) => Effect.Effect<ReadonlyArray<ExecutionRow>, StorageError>
  /**
   * Deletes up to `limit` whole trees, in one transaction: roots finished before `finishedBefore`
   * with one of `statuses`, whose every execution is finished, with all their descendants.
   */
  readonly purge: (request: PurgeRequest) => Effect.Effect<PurgeResult, StorageError>
}>() {}

/** A position in the listing order: what a page's last execution was. @since 0.1.0 @category models */
export interface ListPosition {
  readonly createdAt: number
  readonly executionId: string
}

/**
 * Filter of {@link TaskStorage.listPage}; every bound is exclusive (`createdAfter: t` lists those
 * created after `t`). `rootExecutionId` and `parentExecutionId` match the stored fields (a root's
 * descendants, a parent's children and finalize task).
 *
 * @since 0.1.0
 * @category models
 */
export interface ExecutionQuery {
  readonly statuses?: ReadonlyArray<TaskStatus> | undefined
  readonly taskId?: string | undefined
  readonly rootExecutionId?: string | undefined
  readonly parentExecutionId?: string | undefined
  readonly createdAfter?: number | undefined
  readonly createdBefore?: number | undefined
  readonly finishedAfter?: number | undefined
  readonly finishedBefore?: number | undefined
  /** Only executions after this one in the order (the previous page's last). */
  readonly after?: ListPosition | undefined
  readonly limit: number
}

/** @since 0.1.0 @category models */
export interface PurgeRequest {
  readonly finishedBefore: number
  /** The roots' statuses to delete (finished ones). */
  readonly statuses: ReadonlyArray<TaskStatus>
  /** Most trees deleted by this call. */
  readonly limit: number
}

/** @since 0.1.0 @category models */
export interface PurgeResult {
  readonly trees: number
  readonly executions: number
}
