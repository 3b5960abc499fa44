/**
 * The engine's representation of a task, shared by the Effect API and the Promise facade: its
 * spec (timeout, retries, sleep), how to validate and (de)serialize values, and its run function.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as Effect from "effect/Effect"
import { InvalidTaskDefinition, type InvalidTaskInput } from "./EngineError.js"
import type { ExecutionError, ExecutionRef, TaskSpec } from "./ExecutionRow.js"
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
    | (ExecutionRef & { readonly indexInParentChildTaskExecutions: number; readonly isFinalizeTaskOfParentTask: boolean })
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
  if (typeof id !== "string" || id.length === 0) return `task id must be a non-empty string, got ${JSON.stringify(id)}`
  if (id.length > MAX_TASK_ID_LENGTH) return `task id must be at most ${MAX_TASK_ID_LENGTH} characters, got ${id.length}`
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

/**
 * Validates a task's id, timeout, retry options and sleep, and builds its spec.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeSpec = (options: SpecOptions): Either.Either<TaskSpec, InvalidTaskDefinition> => {
  const id = options.id
  const bad = (message: string) => Either.left(new InvalidTaskDefinition({ taskId: String(id), message }))
  const idProblem = checkTaskId(id)
  if (idProblem !== undefined) return bad(`invalid task definition: ${idProblem}`)
  const { timeoutMs } = options
  if (typeof timeoutMs !== "number" || !Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS) {
    return bad(`task '${id}': timeoutMs must be an integer from 1 to ${MAX_TIMEOUT_MS}, got ${String(timeoutMs)}`)
  }
  const sleep = options.sleepMsBeforeRun ?? 0
  if (typeof sleep !== "number" || !Number.isInteger(sleep) || sleep < 0 || sleep > MAX_TIMEOUT_MS) {
    return bad(`task '${id}': sleepMsBeforeRun must be an integer from 0 to ${MAX_TIMEOUT_MS}, got ${String(sleep)}`)
  }
  const retry = RetryOptions.validate(options.retryOptions)
  if (retry._tag === "Left") return bad(`task '${id}': ${retry.message}`)
  return Either.right({ taskId: id, timeoutMs, retry: retry.options, sleepMsBeforeRun: sleep })
}
