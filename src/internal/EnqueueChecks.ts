/**
 * Checks an enqueue's options and splits them: the overrides of the task's spec (`timeoutMs`,
 * `retryOptions`, `sleepMsBeforeRun`, checked by `TaskDefinition.overrideSpec`), the idempotency
 * key, and when the first run may start (`delayMs` or `delay`, or `startAt`). Shared by the Effect
 * API and the Promise facade, so that both refuse a bad option with the same message.
 */
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import { InvalidTaskDefinition } from "../EngineError.js"
import { MAX_DELAY_MS, MAX_IDEMPOTENCY_KEY_LENGTH } from "../EnqueueOptions.js"
import { type ExecutionRow, makeReady, type TaskSpec } from "../ExecutionRow.js"
import * as TaskDefinition from "../TaskDefinition.js"
import { numberProblem } from "./NumberOption.js"
import { describeValue, unknownKeyProblem } from "./OptionKeys.js"

/** Every key an enqueue's options may have. */
export const ENQUEUE_KEYS: ReadonlyArray<string> = [
  ...TaskDefinition.OVERRIDE_KEYS,
  "idempotencyKey",
  "delayMs",
  "delay",
  "startAt"
]

/** The keys that each set when the first run starts: at most one may be given. */
const TIMING_KEYS = ["sleepMsBeforeRun", "delayMs", "delay", "startAt"] as const

/** An enqueue's options, checked. */
export interface Resolved {
  readonly spec: TaskSpec
  readonly idempotencyKey: string | null
  /** The first run's start time (`startAt`), when given as a time rather than a delay. */
  readonly startAtMs: number | undefined
}

/** A message naming what is wrong with an idempotency key, or undefined. */
export const idempotencyKeyProblem = (key: unknown): string | undefined => {
  const expected = `idempotencyKey must be a non-empty string of at most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`
  if (typeof key !== "string" || key.length === 0) return `${expected}, got ${describeValue(key)}`
  if (key.length > MAX_IDEMPOTENCY_KEY_LENGTH) return `${expected}, got ${key.length} characters`
  // Postgres refuses a NUL in text and turns a lone surrogate into U+FFFD (another key).
  if (key.includes("\u0000") || !(key as unknown as { isWellFormed(): boolean }).isWellFormed()) {
    return "idempotencyKey must not contain a NUL character or a lone surrogate"
  }
  return undefined
}

const delayRange = { min: 0, max: MAX_DELAY_MS, integer: false }

/** The delay in ms (rounded up: a delay is never shortened), or a message. */
const delayMsOf = (name: "delayMs" | "delay", value: unknown): Either.Either<number, string> => {
  if (name === "delayMs" || typeof value === "number") {
    const problem = numberProblem(name, value, delayRange)
    return problem === undefined ? Either.right(Math.ceil(value as number)) : Either.left(problem)
  }
  const negative = (typeof value === "string" && value.trimStart().startsWith("-")) ||
    (typeof value === "bigint" && value < BigInt(0)) ||
    (Array.isArray(value) && value.some((n) => typeof n === "number" && n < 0))
  const decoded = negative ? undefined : Duration.decodeUnknown(value)
  if (decoded === undefined || decoded._tag === "None" || !Duration.isFinite(decoded.value)) {
    return Either.left(`delay must be a finite, non-negative Duration (e.g. "5 seconds"), got ${describeValue(value)}`)
  }
  const ms = Math.ceil(Duration.toMillis(decoded.value))
  return ms <= MAX_DELAY_MS
    ? Either.right(ms)
    : Either.left(`delay must be at most ${MAX_DELAY_MS} ms (100 years), got ${ms} ms`)
}

/**
 * Checks `options` (an object with only {@link ENQUEUE_KEYS}) against `spec` and splits them. Every
 * problem is an `InvalidTaskDefinition` whose message names the option (`enqueue options of task
 * 't': …`), as the spec overrides' problems do.
 */
export const resolve = (spec: TaskSpec, options: unknown): Either.Either<Resolved, InvalidTaskDefinition> => {
  if (options === undefined) return Either.right({ spec, idempotencyKey: null, startAtMs: undefined })
  const where = `enqueue options of task '${spec.taskId}'`
  const invalid = (message: string) => Either.left(new InvalidTaskDefinition({ taskId: spec.taskId, message }))
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    return invalid(`${where} must be an object, got ${describeValue(options)}`)
  }
  const unknownKey = unknownKeyProblem(options, ENQUEUE_KEYS, where)
  if (unknownKey !== undefined) return invalid(unknownKey)
  const { delay, delayMs, idempotencyKey, startAt, ...overrides } = options as Record<string, unknown>
  const given = TIMING_KEYS.filter((k) => (options as Record<string, unknown>)[k] !== undefined)
  if (given.length > 1) return invalid(`${where}: give at most one of ${given.join(", ")}, got ${given.length}`)
  if (idempotencyKey !== undefined) {
    const problem = idempotencyKeyProblem(idempotencyKey)
    if (problem !== undefined) return invalid(`${where}: ${problem}`)
  }
  let startAtMs: number | undefined
  let sleepMs: number | undefined
  if (startAt !== undefined) {
    if (!(startAt instanceof Date) || Number.isNaN(startAt.getTime())) {
      return invalid(`${where}: startAt must be a valid Date, got ${describeValue(startAt)}`)
    }
    startAtMs = startAt.getTime()
  } else if (delayMs !== undefined || delay !== undefined) {
    const ms = delayMs !== undefined ? delayMsOf("delayMs", delayMs) : delayMsOf("delay", delay)
    if (Either.isLeft(ms)) return invalid(`${where}: ${ms.left}`)
    sleepMs = ms.right
  }
  return Either.map(TaskDefinition.overrideSpec(spec, overrides), (overridden) => ({
    spec: sleepMs === undefined ? overridden : { ...overridden, sleepMsBeforeRun: sleepMs },
    idempotencyKey: (idempotencyKey as string | undefined) ?? null,
    startAtMs
  }))
}

/**
 * The spec and start time of one execution enqueued at `nowMs`: a `startAt` in the past starts now
 * (it is not put ahead of due executions), and the row's `sleepMsBeforeRun` is its actual delay.
 */
export const timing = (resolved: Resolved, nowMs: number): { readonly spec: TaskSpec; readonly startAt: number } => {
  if (resolved.startAtMs === undefined) {
    return { spec: resolved.spec, startAt: nowMs + resolved.spec.sleepMsBeforeRun }
  }
  const startAt = Math.max(nowMs, resolved.startAtMs)
  return { spec: { ...resolved.spec, sleepMsBeforeRun: startAt - nowMs }, startAt }
}

/**
 * The new row of one enqueue at `nowMs`, with the options' key or `idempotencyKey` (a batch's), and
 * the trace context to store (the enqueue span's `traceparent`, null when untraced).
 */
export const rowOf = (
  resolved: Resolved,
  executionId: string,
  input: string | null,
  nowMs: number,
  idempotencyKey: string | null = resolved.idempotencyKey,
  traceContext: string | null = null
): ExecutionRow => {
  const { spec, startAt } = timing(resolved, nowMs)
  return makeReady({ spec, executionId, input, nowMs, startAt, idempotencyKey, traceContext })
}

/** A batch's key function (`idempotencyKey` of `enqueueMany`), checked, and its other options. */
export const batchKeys = (
  taskId: string,
  options: unknown
): Either.Either<
  { readonly keyOf: ((input: any, index: number) => unknown) | undefined; readonly rest: unknown },
  InvalidTaskDefinition
> => {
  if (options === null || typeof options !== "object" || !("idempotencyKey" in options)) {
    return Either.right({ keyOf: undefined, rest: options })
  }
  const { idempotencyKey: keyOf, ...rest } = options as Record<string, unknown>
  if (keyOf === undefined) return Either.right({ keyOf: undefined, rest })
  if (typeof keyOf === "function") return Either.right({ keyOf: keyOf as (input: any, index: number) => unknown, rest })
  return Either.left(
    new InvalidTaskDefinition({
      taskId,
      message: `enqueue options of task '${taskId}': idempotencyKey of a batch must be a function ` +
        `(input, index) => key, one key per input, got ${describeValue(keyOf)}`
    })
  )
}

/** The key that a batch's key function gives input `index`, checked. */
export const keyAt = (
  taskId: string,
  keyOf: (input: unknown, index: number) => unknown,
  input: unknown,
  index: number
): Either.Either<string, InvalidTaskDefinition> => {
  const key = keyOf(input, index)
  const problem = idempotencyKeyProblem(key)
  return problem === undefined
    ? Either.right(key as string)
    : Either.left(
      new InvalidTaskDefinition({ taskId, message: `enqueue options of task '${taskId}': input ${index}: ${problem}` })
    )
}
