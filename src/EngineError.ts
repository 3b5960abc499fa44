/**
 * Every tagged error the engine can raise. One `_tag` per failure so callers can `catchTag`.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"

/** A storage call failed (driver error, lost connection, injected fault). @since 0.1.0 @category errors */
export class StorageError extends Data.TaggedError("StorageError")<{
  readonly op: string
  readonly message: string
  readonly cause?: unknown
}> {}

/** No execution has this id. @since 0.1.0 @category errors */
export class ExecutionNotFound extends Data.TaggedError("ExecutionNotFound")<{ readonly executionId: string }> {
  override get message() {
    return `task execution ${this.executionId} not found`
  }
}

/** An execution id is already stored. @since 0.1.0 @category errors */
export class DuplicateExecution extends Data.TaggedError("DuplicateExecution")<{ readonly executionId: string }> {
  override get message() {
    return `task execution ${this.executionId} already exists`
  }
}

/** A task definition is invalid (bad id, duplicate id, bad timeout or retry options). @since 0.1.0 @category errors */
export class InvalidTaskDefinition extends Data.TaggedError("InvalidTaskDefinition")<{
  readonly taskId: string
  readonly message: string
}> {}

/** Input was rejected by the task's validator or schema. @since 0.1.0 @category errors */
export class InvalidTaskInput extends Data.TaggedError("InvalidTaskInput")<{
  readonly taskId: string
  readonly message: string
  readonly cause?: unknown
}> {}

/**
 * A value cannot be stored: not JSON-serializable (or not representable by the task's serializer), or
 * over the size limit. `path` names where inside the value, when known (`input.items[3].callback`).
 *
 * @since 0.1.0
 * @category errors
 */
export class UnstorableValue extends Data.TaggedError("UnstorableValue")<{
  readonly what: string
  readonly message: string
  readonly path?: string | undefined
}> {}

/** The executor is shutting down or shut down: no new work is accepted. @since 0.1.0 @category errors */
export class ExecutorShutDown extends Data.TaggedError("ExecutorShutDown")<{}> {
  override get message() {
    return "the durable executor is shut down"
  }
}

/**
 * Executor settings or layer options are invalid (a bad value, an unknown key, unreadable config). @since 0.1.0
 * @category errors
 */
export class InvalidExecutorConfig extends Data.TaggedError("InvalidExecutorConfig")<{ readonly message: string }> {}

/**
 * A query, listing or purge was given a bad argument; `field` names it (`limit`, `cursor`, `status`…).
 * @since 0.1.0 @category errors
 */
export class InvalidQuery extends Data.TaggedError("InvalidQuery")<{
  readonly field: string
  readonly message: string
}> {}

/**
 * A schedule definition is invalid: a bad id, cron expression, time zone, catch-up mode or task.
 * `field` names the option at fault.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidSchedule extends Data.TaggedError("InvalidSchedule")<{
  readonly scheduleId: string
  readonly field: "id" | "cron" | "timezone" | "catchUp" | "task" | "options"
  readonly message: string
}> {}

/** No schedule has this id. @since 0.1.0 @category errors */
export class ScheduleNotFound extends Data.TaggedError("ScheduleNotFound")<{ readonly scheduleId: string }> {
  override get message() {
    return `schedule ${JSON.stringify(this.scheduleId)} not found`
  }
}

/**
 * The storage in use keeps no schedules (a custom `TaskStorage` without `ScheduleStorage`).
 *
 * @since 0.1.0
 * @category errors
 */
export class SchedulesUnsupported extends Data.TaggedError("SchedulesUnsupported")<{}> {
  override get message() {
    return "this storage keeps no schedules: provide a ScheduleStorage (the memory, SQLite and Postgres storages do)"
  }
}

/**
 * A retry was asked of an execution that did not finish without success (it completed, or it has
 * not finished yet); `status` is the status it had.
 *
 * @since 0.1.0
 * @category errors
 */
export class ExecutionNotRetryable extends Data.TaggedError("ExecutionNotRetryable")<{
  readonly executionId: string
  readonly status: string
}> {
  override get message() {
    return `task execution ${this.executionId} cannot be retried: it is ${this.status}, and only an execution ` +
      "that finished without success (failed, timed_out, cancelled, children_tasks_failed, finalize_task_failed) can"
  }
}
