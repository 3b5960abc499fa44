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
}>() {}
