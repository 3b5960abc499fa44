/**
 * The public view of an execution, with the seed README's field names: values decoded, times as Dates.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type { AttemptHistory, ExecutionError, ExecutionRef, ExecutionRow } from "./ExecutionRow.js"
import type { RegistryService } from "./Registry.js"
import type { RetryOptions } from "./RetryOptions.js"
import * as Serialization from "./Serialization.js"
import { isIdentityCodec, type TaskDefinition } from "./TaskDefinition.js"
import type { TaskStatus } from "./TaskStatus.js"

/**
 * One ended attempt: when it ran, on which executor, the status it left the execution in (`ready`
 * when a retry followed) and its error, with the thrown error's stack (at most 8 KB).
 *
 * @since 0.1.0
 * @category models
 */
export interface TaskAttempt {
  /** 1 for the first attempt. */
  readonly attempt: number
  readonly startedAt: Date
  readonly finishedAt: Date
  readonly executorId?: string
  readonly status: TaskStatus
  readonly error?: ExecutionError
}

/** @since 0.1.0 @category models */
export interface TaskExecution<TOutput = unknown> {
  readonly taskId: string
  readonly executionId: string
  readonly status: TaskStatus
  readonly isClosed: boolean
  readonly runInput: unknown
  /** Output of `run`/`runParent` of a parent task, before its children and finalize task. */
  readonly runOutput?: unknown
  /** Present when `status` is `completed`. */
  readonly output?: TOutput
  /** Present when the execution finished without success. */
  readonly error?: ExecutionError
  readonly retryAttempts: number
  readonly retryOptions: RetryOptions
  readonly timeoutMs: number
  readonly sleepMsBeforeRun: number
  readonly rootTaskExecution?: ExecutionRef
  readonly parentTaskExecution?: ExecutionRef & {
    readonly indexInParentChildTaskExecutions: number
    readonly isFinalizeTaskOfParentTask: boolean
  }
  readonly childrenTaskExecutions?: ReadonlyArray<ExecutionRef>
  readonly completedChildrenTaskExecutions?: number
  readonly finalizeTaskExecution?: ExecutionRef
  readonly needsPromiseCancellation: boolean
  readonly executorId?: string
  readonly startAt: Date
  readonly startedAt?: Date
  readonly finishedAt?: Date
  readonly expiresAt?: Date
  readonly createdAt: Date
  readonly updatedAt: Date
  /** The last 20 ended attempts, oldest first (README "Operating"). */
  readonly attempts: ReadonlyArray<TaskAttempt>
  /** How many attempts ended in all (more than `attempts` holds after 20). */
  readonly attemptCount: number
}

const NO_ATTEMPTS: ReadonlyArray<TaskAttempt> = []

const attemptsOf = (history: AttemptHistory | null): ReadonlyArray<TaskAttempt> =>
  history === null ? NO_ATTEMPTS : history.recent.map((a) => {
    const attempt: { -readonly [K in keyof TaskAttempt]: TaskAttempt[K] } = {
      attempt: a.attempt,
      startedAt: new Date(a.startedAt),
      finishedAt: new Date(a.finishedAt),
      status: a.status
    }
    if (a.executorId !== null) attempt.executorId = a.executorId
    if (a.error !== undefined) attempt.error = a.error
    return attempt
  })

const orRaw = (effect: Effect.Effect<unknown, unknown>, raw: unknown) => Effect.orElseSucceed(effect, () => raw)

/** Decodes the final output of `definition` (a finalize task's output, or the parent wrapper). */
const decodeFinal = (definition: TaskDefinition | undefined, raw: unknown): Effect.Effect<unknown> => {
  if (definition === undefined) return Effect.succeed(raw)
  // A looping task's output is its own (`{ isSuccess, output }`), not a parent's wrapper.
  if (definition.kind === "task" || definition.loop !== undefined) return orRaw(definition.decodeOutput(raw), raw)
  if (definition.finalize !== undefined) return decodeFinal(definition.finalize, raw)
  if (typeof raw !== "object" || raw === null) return Effect.succeed(raw)
  const wrapper = raw as { output?: unknown; childrenOutputs?: unknown }
  return Effect.map(
    orRaw(definition.decodeOutput(wrapper.output), wrapper.output),
    (output) => ({ ...wrapper, output })
  )
}

/** True when {@link decodeFinal} needs no effect (every codec on the way is the identity). */
const finalIsIdentity = (definition: TaskDefinition | undefined): boolean =>
  definition === undefined ||
  (definition.kind === "parentTask" && definition.finalize !== undefined
    ? finalIsIdentity(definition.finalize)
    : isIdentityCodec(definition.decodeOutput))

const date = (ms: number | null): Date | undefined => (ms === null ? undefined : new Date(ms))

const NONE: unique symbol = Symbol("none")

/** The public view from a row and its already decoded values (`NONE`: absent). */
const build = (row: ExecutionRow, runInput: unknown, runOutput: unknown, output: unknown): TaskExecution => {
  const execution: {
    -readonly [K in keyof TaskExecution]: TaskExecution[K]
  } = {
    taskId: row.taskId,
    executionId: row.executionId,
    status: row.status,
    isClosed: row.isClosed,
    runInput,
    retryAttempts: row.retryAttempts,
    retryOptions: row.retry,
    timeoutMs: row.timeoutMs,
    sleepMsBeforeRun: row.sleepMsBeforeRun,
    needsPromiseCancellation: row.needsPromiseCancellation,
    startAt: new Date(row.startAt),
    createdAt: new Date(row.createdAt),
    updatedAt: new Date(row.updatedAt),
    attempts: attemptsOf(row.attempts),
    attemptCount: row.attempts?.total ?? 0
  }
  if (runOutput !== NONE) execution.runOutput = runOutput
  if (output !== NONE) execution.output = output
  if (row.error !== null) execution.error = row.error
  if (row.rootExecutionId !== null && row.rootTaskId !== null) {
    execution.rootTaskExecution = { taskId: row.rootTaskId, executionId: row.rootExecutionId }
  }
  if (row.parentExecutionId !== null && row.parentTaskId !== null) {
    execution.parentTaskExecution = {
      taskId: row.parentTaskId,
      executionId: row.parentExecutionId,
      indexInParentChildTaskExecutions: row.indexInParent,
      isFinalizeTaskOfParentTask: row.isFinalize
    }
  }
  if (row.children.length > 0) {
    execution.childrenTaskExecutions = row.children
    execution.completedChildrenTaskExecutions = row.completedChildren
  }
  if (row.finalizeExecutionId !== null && row.finalize !== null) {
    execution.finalizeTaskExecution = { taskId: row.finalize.taskId, executionId: row.finalizeExecutionId }
  }
  if (row.executorId !== null) execution.executorId = row.executorId
  const startedAt = date(row.startedAt)
  if (startedAt) execution.startedAt = startedAt
  const finishedAt = date(row.finishedAt)
  if (finishedAt) execution.finishedAt = finishedAt
  const expiresAt = date(row.expiresAt)
  if (expiresAt) execution.expiresAt = expiresAt
  return execution
}

/**
 * The public view of a row when building it needs no effect (the task's codecs are the identity, as
 * for every task without a Schema), else undefined: then use {@link fromRow}.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromRowSync = (row: ExecutionRow, registry: RegistryService): TaskExecution | undefined => {
  const definition = registry.get(row.taskId)
  const hasRunOutput = row.runOutput !== null && definition?.kind === "parentTask"
  const hasOutput = row.status === "completed"
  if (
    !(definition === undefined || isIdentityCodec(definition.decodeInput)) ||
    !(!hasRunOutput || isIdentityCodec(definition!.decodeOutput)) ||
    !(!hasOutput || finalIsIdentity(definition))
  ) return undefined
  const decode = (text: string | null) => Serialization.decodeOrStored(text, definition?.serializer)
  const rawOutput = hasOutput ? decode(row.output) : NONE
  const output = rawOutput !== NONE && definition?.kind === "parentTask" && definition.finalize === undefined &&
      typeof rawOutput === "object" && rawOutput !== null
    ? { ...(rawOutput as object) }
    : rawOutput
  return build(row, decode(row.input), hasRunOutput ? decode(row.runOutput) : NONE, output)
}

/**
 * Builds the public view of a row, decoding values with the registered task's codecs. @since 0.1.0 @category
 * constructors
 */
export const fromRow = (row: ExecutionRow, registry: RegistryService): Effect.Effect<TaskExecution> => {
  const sync = fromRowSync(row, registry)
  if (sync !== undefined) return Effect.succeed(sync)
  const definition = registry.get(row.taskId)
  const decode = (text: string | null) => Serialization.decodeOrStored(text, definition?.serializer)
  const rawInput = decode(row.input)
  const hasRunOutput = row.runOutput !== null && definition?.kind === "parentTask"
  const hasOutput = row.status === "completed"
  return Effect.gen(function*() {
    const runInput = definition === undefined ? rawInput : yield* orRaw(definition.decodeInput(rawInput), rawInput)
    let runOutput: unknown = NONE
    if (hasRunOutput) {
      const raw = decode(row.runOutput)
      runOutput = yield* orRaw(definition!.decodeOutput(raw), raw)
    }
    const output = hasOutput ? yield* decodeFinal(definition, decode(row.output)) : NONE
    return build(row, runInput, runOutput, output)
  })
}
