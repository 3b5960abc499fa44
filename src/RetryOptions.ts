/**
 * Retry options and the backoff arithmetic: a pure module.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { numberProblem } from "./internal/NumberOption.js"
import { describeValue, unknownKeyProblem } from "./internal/OptionKeys.js"

/**
 * How a task is retried. `maxAttempts` counts retries: 5 means up to 6 runs.
 * The delay before retry `n` (0-based) is `min(baseDelayMs × delayMultiplier^n, maxDelayMs)`.
 *
 * @since 0.1.0
 * @category models
 */
export interface RetryOptions {
  readonly maxAttempts: number
  readonly baseDelayMs: number
  readonly delayMultiplier: number
  readonly maxDelayMs: number
}

/**
 * The stored form of {@link RetryOptions} (as validated by {@link validate}); SQL storage decodes
 * and encodes it (encoding keeps only these fields).
 *
 * @since 0.1.0
 * @category schemas
 */
export const RetryOptionsSchema: Schema.Schema<RetryOptions> = Schema.Struct({
  maxAttempts: Schema.Number,
  baseDelayMs: Schema.Number,
  delayMultiplier: Schema.Number,
  maxDelayMs: Schema.Number
})

/** No retries. @since 0.1.0 @category constructors */
export const noRetries: RetryOptions = { maxAttempts: 0, baseDelayMs: 0, delayMultiplier: 1, maxDelayMs: 0 }

/** Largest accepted `maxAttempts`. @since 0.1.0 @category limits */
export const MAX_RETRY_ATTEMPTS = 1_000

/** Largest accepted delay (one day). @since 0.1.0 @category limits */
export const MAX_DELAY_MS = 86_400_000

/** Delay in ms before retry number `retry` (0 for the first retry). @since 0.1.0 @category utils */
export const delayMs = (options: RetryOptions, retry: number): number => {
  const raw = options.baseDelayMs * Math.pow(options.delayMultiplier, retry)
  return Math.max(0, Math.round(Math.min(raw, options.maxDelayMs)))
}

/** The keys a retry options object may have. @since 0.1.0 @category models */
export const KEYS: ReadonlyArray<keyof RetryOptions> = ["maxAttempts", "baseDelayMs", "delayMultiplier", "maxDelayMs"]

/**
 * Fills defaults and checks every field; returns the problem as a message, or the options. A field
 * set to `undefined` takes its default; anything but an object (or `undefined`) is refused, and so is
 * an unknown key (named with the nearest known one).
 *
 * @since 0.1.0
 * @category constructors
 */
export const validate = (
  partial: unknown
): { readonly _tag: "Right"; readonly options: RetryOptions } | { readonly _tag: "Left"; readonly message: string } => {
  const bad = (message: string) => ({ _tag: "Left" as const, message })
  if (partial === undefined) return { _tag: "Right", options: noRetries }
  if (partial === null || typeof partial !== "object" || Array.isArray(partial)) {
    return bad(`retryOptions must be an object { ${KEYS.join(", ")} }, got ${describeValue(partial)}`)
  }
  const unknownKey = unknownKeyProblem(partial, KEYS, "retryOptions")
  if (unknownKey !== undefined) return bad(unknownKey)
  const given = partial as Partial<Record<keyof RetryOptions, unknown>>
  // `null` is not a default: it is refused as a wrong type.
  const orDefault = (value: unknown, byDefault: number): unknown => (value === undefined ? byDefault : value)
  const maxAttempts = orDefault(given.maxAttempts, 0)
  const baseDelayMs = orDefault(given.baseDelayMs, 0)
  const delayMultiplier = orDefault(given.delayMultiplier, 1)
  const maxDelayMs = orDefault(given.maxDelayMs, typeof baseDelayMs === "number" ? Math.max(baseDelayMs, 0) : 0)
  const problem =
    numberProblem("retryOptions.maxAttempts", maxAttempts, { min: 0, max: MAX_RETRY_ATTEMPTS, integer: true }) ??
      numberProblem("retryOptions.baseDelayMs", baseDelayMs, { min: 0, max: MAX_DELAY_MS, integer: false }) ??
      numberProblem("retryOptions.delayMultiplier", delayMultiplier, { min: 1, max: 100, integer: false }) ??
      numberProblem("retryOptions.maxDelayMs", maxDelayMs, { min: 0, max: MAX_DELAY_MS, integer: false })
  if (problem !== undefined) return bad(problem)
  return {
    _tag: "Right",
    options: { maxAttempts, baseDelayMs, delayMultiplier, maxDelayMs } as RetryOptions
  }
}
