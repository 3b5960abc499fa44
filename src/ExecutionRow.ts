/**
 * The stored row of one task execution. Values (input, outputs) are stored as JSON text; a `null`
 * column stands for `undefined`.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { type RetryOptions, RetryOptionsSchema } from "./RetryOptions.js"
import { TASK_STATUSES, type TaskStatus } from "./TaskStatus.js"

/** A reference to another execution. @since 0.1.0 @category models */
export interface ExecutionRef {
  readonly taskId: string
  readonly executionId: string
}

/** The stored form of an {@link ExecutionRef}. @since 0.1.0 @category schemas */
export const ExecutionRefSchema: Schema.Schema<ExecutionRef> = Schema.Struct({
  taskId: Schema.String,
  executionId: Schema.String
})

/** Error kinds, as in the seed README. @since 0.1.0 @category models */
export type ErrorType = "generic" | "not_found" | "timed_out" | "cancelled"

/** The stored error of an unsuccessful execution. @since 0.1.0 @category models */
export interface ExecutionError {
  readonly errorType: ErrorType
  readonly message: string
  readonly isRetryable: boolean
  /** The thrown error's stack, when it had one (kept in the attempt history only, at most 8 KB). */
  readonly stack?: string
}

/** The stored form of an {@link ExecutionError}. @since 0.1.0 @category schemas */
export const ExecutionErrorSchema: Schema.Schema<ExecutionError> = Schema.Struct({
  errorType: Schema.Literal("generic", "not_found", "timed_out", "cancelled"),
  message: Schema.String,
  isRetryable: Schema.Boolean,
  stack: Schema.optionalWith(Schema.String, { exact: true })
})

/**
 * One ended attempt of an execution: when it started and ended, which executor ran it, how it ended
 * (the status the execution moved to: `ready` for a retry), and its error.
 *
 * @since 0.1.0
 * @category models
 */
export interface ExecutionAttempt {
  /** 1 for the first attempt. */
  readonly attempt: number
  readonly startedAt: number
  readonly finishedAt: number
  readonly executorId: string | null
  readonly status: TaskStatus
  readonly error?: ExecutionError
}

/** The attempts kept (the last {@link ATTEMPTS_KEPT}) and how many ended in all. @since 0.1.0 @category models */
export interface AttemptHistory {
  readonly total: number
  readonly recent: ReadonlyArray<ExecutionAttempt>
}

/** Attempts kept per execution. @since 0.1.0 @category constants */
export const ATTEMPTS_KEPT = 20

/** Longest error stack kept, in characters. @since 0.1.0 @category constants */
export const STACK_MAX_CHARS = 8_192

/** The stored form of an {@link AttemptHistory}. @since 0.1.0 @category schemas */
export const AttemptHistorySchema: Schema.Schema<AttemptHistory> = Schema.Struct({
  total: Schema.Int,
  recent: Schema.Array(Schema.Struct({
    attempt: Schema.Int,
    startedAt: Schema.Int,
    finishedAt: Schema.Int,
    executorId: Schema.NullOr(Schema.String),
    status: Schema.Literal(...TASK_STATUSES),
    error: Schema.optionalWith(ExecutionErrorSchema, { exact: true })
  }))
})

/**
 * What a new execution needs: the task's id and its run settings, copied from the definition at
 * insert time so that any executor (or a storage-only process) can apply retries and expiries.
 *
 * @since 0.1.0
 * @category models
 */
export interface TaskSpec {
  readonly taskId: string
  readonly timeoutMs: number
  readonly retry: RetryOptions
  readonly sleepMsBeforeRun: number
}

/** The stored form of a {@link TaskSpec} (a parent's finalize task). @since 0.1.0 @category schemas */
export const TaskSpecSchema: Schema.Schema<TaskSpec> = Schema.Struct({
  taskId: Schema.String,
  timeoutMs: Schema.Number,
  retry: RetryOptionsSchema,
  sleepMsBeforeRun: Schema.Number
})

/** A child to insert: its spec, its id and its serialized input. @since 0.1.0 @category models */
export interface NewChild extends TaskSpec {
  readonly executionId: string
  readonly input: string | null
  /** The W3C `traceparent` the child's runs continue (the parent's run span); else the parent's own. */
  readonly traceContext?: string | null | undefined
}

/**
 * One execution, as stored. Every field has a column in `internal/sql/SqlRow.ts`'s table (the type
 * checker insists on it); a new field also needs a new migration in `internal/sql/migrations/`.
 *
 * @since 0.1.0
 * @category models
 */
export interface ExecutionRow {
  readonly executionId: string
  readonly taskId: string
  readonly rootExecutionId: string | null
  readonly rootTaskId: string | null
  readonly parentExecutionId: string | null
  readonly parentTaskId: string | null
  /** Index among the parent's children; -1 for a finalize task or a root. */
  readonly indexInParent: number
  readonly isFinalize: boolean
  readonly status: TaskStatus
  readonly isClosed: boolean
  readonly needsPromiseCancellation: boolean
  readonly input: string | null
  /** Output of `run`/`runParent` before children and finalize. */
  readonly runOutput: string | null
  /** Final output (when completed). */
  readonly output: string | null
  readonly children: ReadonlyArray<ExecutionRef>
  readonly completedChildren: number
  /** The finalize task to insert once every child completed. */
  readonly finalize: TaskSpec | null
  readonly finalizeExecutionId: string | null
  readonly error: ExecutionError | null
  readonly prevError: ExecutionError | null
  readonly timeoutMs: number
  readonly retry: RetryOptions
  readonly sleepMsBeforeRun: number
  readonly retryAttempts: number
  readonly startAt: number
  readonly leaseId: string | null
  readonly executorId: string | null
  readonly expiresAt: number | null
  readonly startedAt: number | null
  readonly finishedAt: number | null
  readonly createdAt: number
  readonly updatedAt: number
  /**
   * The caller's idempotency key of a root execution (null without one, and for children and
   * finalize executions): at most one row per `(taskId, idempotencyKey)`, kept as long as the row.
   */
  readonly idempotencyKey: string | null
  /** The ended attempts; null before the first ends. */
  readonly attempts: AttemptHistory | null
  /**
   * The W3C `traceparent` of the span that enqueued it (children and finalize executions inherit
   * their parent's), so that its runs, in any process, continue that trace; null when untraced.
   */
  readonly traceContext: string | null
}

/** A new ready row for a root, child or finalize execution. @since 0.1.0 @category constructors */
export const makeReady = (args: {
  readonly spec: TaskSpec
  readonly executionId: string
  readonly input: string | null
  readonly nowMs: number
  readonly parent?: { readonly row: ExecutionRow; readonly index: number; readonly isFinalize: boolean }
  /** A root's idempotency key. */
  readonly idempotencyKey?: string | null | undefined
  /** When the first run may start, instead of `nowMs + spec.sleepMsBeforeRun` (a root's delay or start time). */
  readonly startAt?: number | undefined
  /** The trace to continue; by default the parent's, or none. */
  readonly traceContext?: string | null | undefined
}): ExecutionRow => {
  const parent = args.parent?.row
  return {
    executionId: args.executionId,
    taskId: args.spec.taskId,
    rootExecutionId: parent ? (parent.rootExecutionId ?? parent.executionId) : null,
    rootTaskId: parent ? (parent.rootTaskId ?? parent.taskId) : null,
    parentExecutionId: parent ? parent.executionId : null,
    parentTaskId: parent ? parent.taskId : null,
    indexInParent: args.parent && !args.parent.isFinalize ? args.parent.index : -1,
    isFinalize: args.parent?.isFinalize ?? false,
    status: "ready",
    isClosed: false,
    needsPromiseCancellation: false,
    input: args.input,
    runOutput: null,
    output: null,
    children: [],
    completedChildren: 0,
    finalize: null,
    finalizeExecutionId: null,
    error: null,
    prevError: null,
    timeoutMs: args.spec.timeoutMs,
    retry: args.spec.retry,
    sleepMsBeforeRun: args.spec.sleepMsBeforeRun,
    retryAttempts: 0,
    startAt: args.startAt ?? args.nowMs + args.spec.sleepMsBeforeRun,
    leaseId: null,
    executorId: null,
    expiresAt: null,
    startedAt: null,
    finishedAt: null,
    createdAt: args.nowMs,
    updatedAt: args.nowMs,
    idempotencyKey: args.idempotencyKey ?? null,
    attempts: null,
    traceContext: args.traceContext ?? parent?.traceContext ?? null
  }
}
