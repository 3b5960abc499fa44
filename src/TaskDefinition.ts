/**
 * The engine's representation of a task, shared by the Effect API and the Promise facade: its
 * spec (timeout, retries, sleep), how to validate and (de)serialize values, and its run function.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { InvalidTaskDefinition, type InvalidTaskInput } from "./EngineError.js"
import type { ExecutionError, ExecutionRef, TaskSpec } from "./ExecutionRow.js"
import type { FlowLimits } from "./FlowControl.js"
import { numberProblem } from "./internal/NumberOption.js"
import { describeValue, unknownKeyProblem } from "./internal/OptionKeys.js"
import * as RetryOptions from "./RetryOptions.js"
import type { ValueSerializer } from "./Serialization.js"

/** What a run knows about its execution. @since 0.1.0 @category models */
export interface RunInfo {
  readonly taskId: string
  readonly executionId: string
  /** 0 for the first run, then 1, 2, … for retries. */
  readonly attempt: number
  readonly prevError: ExecutionError | undefined
  /** Fires when the executor starts shutting down. */
  readonly shutdownSignal: AbortSignal
  readonly rootTaskExecution: ExecutionRef | undefined
  readonly parentTaskExecution:
    | (ExecutionRef & {
      readonly indexInParentChildTaskExecutions: number
      readonly isFinalizeTaskOfParentTask: boolean
    })
    | undefined
}

/** A child a parent run asks for. @since 0.1.0 @category models */
export interface ChildRequest {
  readonly task: TaskDefinition
  readonly input: unknown
}

/** The result of a run: an output, and children for a parent task. @since 0.1.0 @category models */
export interface RunResult {
  readonly output: unknown
  readonly children: ReadonlyArray<ChildRequest>
}

/** @since 0.1.0 @category models */
export interface TaskDefinition {
  readonly id: string
  readonly kind: "task" | "parentTask"
  readonly spec: TaskSpec
  /** Validates enqueue input and returns the JSON-safe value to store. */
  readonly prepareInput: (input: unknown) => Effect.Effect<unknown, InvalidTaskInput>
  /** Turns the stored (parsed JSON) input into the value `run` receives. */
  readonly decodeInput: (stored: unknown) => Effect.Effect<unknown, unknown>
  /** Turns the run's output into a JSON-safe value to store. */
  readonly encodeOutput: (output: unknown) => Effect.Effect<unknown, unknown>
  /** Turns the stored (parsed JSON) output into the value callers see. */
  readonly decodeOutput: (stored: unknown) => Effect.Effect<unknown, unknown>
  readonly run: (info: RunInfo, input: unknown) => Effect.Effect<RunResult, unknown>
  /**
   * The same run as a plain function, for tasks written without Effect (the Promise facade's): the
   * executor then calls it without a fiber of its own. It returns (or resolves with) the result, or
   * throws (or rejects). `cancelSignal()` returns a signal that fires when the run is interrupted
   * (cancel, timeout, lost lease, shutdown); the run's result is then ignored.
   */
  readonly runPlain?: (
    info: RunInfo,
    input: unknown,
    cancelSignal: () => AbortSignal
  ) => RunResult | PromiseLike<RunResult>
  readonly finalize: TaskDefinition | undefined
  /**
   * How this task's values are stored (the Promise facade's serializer); without one, values are
   * stored as plain JSON (the Effect API's Schema-encoded values).
   */
  readonly serializer?: ValueSerializer | undefined
  /** A sleeping task's (`Sleeping.ts`): its executions are woken up, never run; the input is the sleep id. */
  readonly sleeping?: true | undefined
  /** A looping task's limits (`Looping.ts`): its one child at a time is its iteration. */
  readonly loop?: { readonly maxAttempts: number; readonly sleepMs: number } | undefined
  /** The task's concurrency limits, enforced by the storage's claims (`FlowControl`). */
  readonly flow?: FlowLimits | undefined
}

/**
 * True when `codec` is the identity codec (`Effect.succeed`, used by tasks without a Schema): hot
 * paths may then use the value as it is instead of running an effect per execution.
 *
 * @since 0.1.0
 * @category utils
 */
export const isIdentityCodec = (codec: (value: unknown) => Effect.Effect<unknown, unknown>): boolean =>
  codec === (Effect.succeed as unknown)

/** Longest task id. @since 0.1.0 @category limits */
export const MAX_TASK_ID_LENGTH = 255
/** Longest timeout: about 24.8 days (the largest timer Node accepts). @since 0.1.0 @category limits */
export const MAX_TIMEOUT_MS = 2_147_483_647

const TASK_ID = /^[\x21-\x7e]+$/

/** A message naming what is wrong with a task id, or undefined. @since 0.1.0 @category validation */
export const checkTaskId = (id: unknown): string | undefined => {
  if (typeof id !== "string" || id.length === 0) return `task id must be a non-empty string, got ${describeValue(id)}`
  if (id.length > MAX_TASK_ID_LENGTH) {
    return `task id must be at most ${MAX_TASK_ID_LENGTH} characters, got ${id.length}`
  }
  if (!TASK_ID.test(id)) {
    return `task id ${JSON.stringify(id)} must use printable ASCII characters only (no spaces or control characters)`
  }
  return undefined
}

/** Options shared by every task kind. @since 0.1.0 @category models */
export interface SpecOptions {
  readonly id: string
  readonly timeoutMs: number
  readonly retryOptions?: Partial<RetryOptions.RetryOptions> | undefined
  readonly sleepMsBeforeRun?: number | undefined
}

/** The keys of {@link SpecOptions}: every task kind accepts these. @since 0.1.0 @category validation */
export const SPEC_KEYS: ReadonlyArray<string> = ["id", "timeoutMs", "retryOptions", "sleepMsBeforeRun"]

/** The keys of per-enqueue overrides. @since 0.1.0 @category validation */
export const OVERRIDE_KEYS: ReadonlyArray<string> = ["timeoutMs", "retryOptions", "sleepMsBeforeRun"]

const timeoutRange = { min: 1, max: MAX_TIMEOUT_MS, integer: true }
const sleepRange = { min: 0, max: MAX_TIMEOUT_MS, integer: true }

const invalid = (taskId: unknown, message: string) =>
  Either.left(new InvalidTaskDefinition({ taskId: typeof taskId === "string" ? taskId : String(taskId), message }))

/**
 * Validates a task's options (an object with only the keys in `keys`: {@link SPEC_KEYS} and those of
 * its kind) and its id, timeout, retry options and sleep, and builds its spec. `what` names the
 * options in messages (`task options`, `finalizeTask options of task 'p'`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeSpec = (
  options: unknown,
  keys: ReadonlyArray<string> = SPEC_KEYS,
  what = "task options"
): Either.Either<TaskSpec, InvalidTaskDefinition> => {
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    return invalid(undefined, `${what} must be an object, got ${describeValue(options)}`)
  }
  const { id, retryOptions, sleepMsBeforeRun, timeoutMs } = options as Partial<Record<keyof SpecOptions, unknown>>
  const idProblem = checkTaskId(id)
  if (idProblem !== undefined) return invalid(id, `invalid task definition: ${idProblem}`)
  const where = `task '${id}'`
  const unknownKey = unknownKeyProblem(options, keys, where)
  if (unknownKey !== undefined) return invalid(id, unknownKey)
  const sleep = sleepMsBeforeRun === undefined ? 0 : sleepMsBeforeRun
  const problem = numberProblem("timeoutMs", timeoutMs, timeoutRange) ??
    numberProblem("sleepMsBeforeRun", sleep, sleepRange)
  if (problem !== undefined) return invalid(id, `${where}: ${problem}`)
  const retry = RetryOptions.validate(retryOptions)
  if (retry._tag === "Left") return invalid(id, `${where}: ${retry.message}`)
  return Either.right({
    taskId: id as string,
    timeoutMs: timeoutMs as number,
    retry: retry.options,
    sleepMsBeforeRun: sleep as number
  })
}

/**
 * The spec of one execution: `spec` with the per-enqueue overrides in `options` (`timeoutMs`,
 * `retryOptions`, which replaces the task's retry options as a whole, `sleepMsBeforeRun`), checked as
 * a task's options are. An unknown key is refused, named with the nearest known one.
 *
 * @since 0.1.0
 * @category constructors
 */
export const overrideSpec = (spec: TaskSpec, options: unknown): Either.Either<TaskSpec, InvalidTaskDefinition> => {
  if (options === undefined) return Either.right(spec)
  const where = `enqueue options of task '${spec.taskId}'`
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    return invalid(spec.taskId, `${where} must be an object, got ${describeValue(options)}`)
  }
  const unknownKey = unknownKeyProblem(options, OVERRIDE_KEYS, where)
  if (unknownKey !== undefined) return invalid(spec.taskId, unknownKey)
  const given = options as Partial<Record<keyof SpecOptions, unknown>>
  return makeSpec({
    id: spec.taskId,
    timeoutMs: given.timeoutMs === undefined ? spec.timeoutMs : given.timeoutMs,
    retryOptions: given.retryOptions === undefined ? spec.retry : given.retryOptions,
    sleepMsBeforeRun: given.sleepMsBeforeRun === undefined ? spec.sleepMsBeforeRun : given.sleepMsBeforeRun
  })
}

/**
 * The error when `options[name]` is not a function (`task 'x': run must be a function, got
 * undefined`), or undefined.
 *
 * @since 0.1.0
 * @category validation
 */
export const functionProblem = (taskId: string, options: object, name: string): InvalidTaskDefinition | undefined => {
  const value = (options as Record<string, unknown>)[name]
  return typeof value === "function"
    ? undefined
    : new InvalidTaskDefinition({
      taskId,
      message: `task '${taskId}': ${name} must be a function, got ${describeValue(value)}`
    })
}
