/**
 * The Promise facade's errors: plain `Error` subclasses, never Effect internals.
 *
 * @since 0.1.0
 */
import type { ErrorType } from "../ExecutionRow.js"

/**
 * The base error. Throw it from a task with `isRetryable: false` to fail without retries; any
 * other thrown value is retryable.
 *
 * @since 0.1.0
 * @category errors
 */
export class DurableExecutionError extends Error {
  readonly errorType: ErrorType
  readonly isRetryable: boolean
  constructor(message: string, isRetryable = true, errorType: ErrorType = "generic") {
    super(message)
    this.name = new.target.name
    this.isRetryable = isRetryable
    this.errorType = errorType
  }
}

/** No execution has the given id. @since 0.1.0 @category errors */
export class DurableExecutionNotFoundError extends DurableExecutionError {
  constructor(message: string) {
    super(message, false, "not_found")
  }
}

/**
 * A task was defined with bad options (id, timeout, retry options, an empty sequence). @since 0.1.0 @category errors
 */
export class DurableTaskDefinitionError extends DurableExecutionError {
  constructor(message: string) {
    super(message, false)
  }
}

/** Input failed the task's validator or schema at enqueue. @since 0.1.0 @category errors */
export class DurableTaskInputError extends DurableExecutionError {
  constructor(message: string) {
    super(message, false)
  }
}

/**
 * A value cannot be stored: the serializer cannot represent it (a function, a symbol, an instance of
 * a class, a Promise), or it is over the size limit. `path` names where inside the value
 * (`input.items[3].callback`), when known.
 *
 * @since 0.1.0
 * @category errors
 */
export class DurableValueError extends DurableExecutionError {
  readonly path: string | undefined
  constructor(message: string, path?: string) {
    super(message, false)
    this.path = path
  }
}

/** The storage failed. @since 0.1.0 @category errors */
export class DurableStorageError extends DurableExecutionError {
  constructor(message: string) {
    super(message, true)
  }
}

/** The executor is shut down (or shutting down) and accepts no new work. @since 0.1.0 @category errors */
export class DurableExecutorShutdownError extends DurableExecutionError {
  constructor(message = "the durable executor is shut down") {
    super(message, false)
  }
}

/** Waiting was aborted through the caller's AbortSignal. @since 0.1.0 @category errors */
export class DurableWaitAbortedError extends DurableExecutionError {
  constructor(message = "waiting for the task execution was aborted") {
    super(message, false, "cancelled")
  }
}

/** Maps an engine error (a tagged error) to the facade's class. @since 0.1.0 @category utils */
export const fromEngineError = (error: unknown): Error => {
  if (error instanceof DurableExecutionError) return error
  const tag = typeof error === "object" && error !== null && "_tag" in error ? String(error._tag) : undefined
  const message = error instanceof Error ? error.message : String(error)
  switch (tag) {
    case "ExecutionNotFound":
      return new DurableExecutionNotFoundError(message)
    case "InvalidTaskDefinition":
      return new DurableTaskDefinitionError(message)
    case "InvalidExecutorConfig":
      return new DurableExecutorOptionsError(message)
    case "InvalidTaskInput":
      return new DurableTaskInputError(message)
    case "UnstorableValue":
      return new DurableValueError(message, (error as { path?: string }).path)
    case "StorageError":
    case "DuplicateExecution":
      return new DurableStorageError(message)
    case "ExecutorShutDown":
      return new DurableExecutorShutdownError(message)
    case "InvalidQuery":
      return new DurableQueryError(message, (error as { field: string }).field)
    case "InvalidSchedule":
      return new DurableScheduleError(message)
    case "ExecutionNotRetryable":
      return new DurableExecutionNotRetryableError(message, (error as { status: string }).status)
    case "ScheduleNotFound":
      return new DurableScheduleNotFoundError(message)
    case "SchedulesUnsupported":
      return new DurableStorageError(message)
    default:
      return error instanceof Error ? error : new DurableExecutionError(message)
  }
}

/** The executor was constructed with bad options. @since 0.1.0 @category errors */
export class DurableExecutorOptionsError extends DurableExecutionError {
  constructor(message: string) {
    super(message, false)
  }
}

/**
 * A listing, count, tree or purge was given a bad argument; `field` names it (`limit`, `cursor`,
 * `status`, `createdAfter`…).
 *
 * @since 0.1.0
 * @category errors
 */
export class DurableQueryError extends DurableExecutionError {
  readonly field: string
  constructor(message: string, field: string) {
    super(message, false)
    this.field = field
  }
}

/**
 * A schedule definition is invalid (its id, cron expression, time zone, catch-up mode or task).
 *
 * @since 0.1.0
 * @category errors
 */
export class DurableScheduleError extends DurableExecutionError {
  constructor(message: string) {
    super(message, false)
  }
}

/** No schedule has the given id. @since 0.1.0 @category errors */
export class DurableScheduleNotFoundError extends DurableExecutionError {
  constructor(message: string) {
    super(message, false, "not_found")
  }
}

/**
 * A retry was asked of an execution that did not finish without success: `status` is its status
 * (`completed`, or one not finished yet).
 *
 * @since 0.1.0
 * @category errors
 */
export class DurableExecutionNotRetryableError extends DurableExecutionError {
  readonly status: string
  constructor(message: string, status: string) {
    super(message, false)
    this.status = status
  }
}
