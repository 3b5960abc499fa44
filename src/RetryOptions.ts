/**
 * Retry options and the backoff arithmetic: a pure module.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

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

/**
 * Fills defaults and checks every field; returns the problem as a message, or the options.
 *
 * @since 0.1.0
 * @category constructors
 */
export const validate = (
  partial: Partial<RetryOptions> | undefined
): { readonly _tag: "Right"; readonly options: RetryOptions } | { readonly _tag: "Left"; readonly message: string } => {
  const maxAttempts = partial?.maxAttempts ?? 0
  const baseDelayMs = partial?.baseDelayMs ?? 0
  const delayMultiplier = partial?.delayMultiplier ?? 1
  const maxDelayMs = partial?.maxDelayMs ?? Math.max(baseDelayMs, 0)
  const bad = (message: string) => ({ _tag: "Left" as const, message })
  if (!Number.isInteger(maxAttempts) || maxAttempts < 0 || maxAttempts > MAX_RETRY_ATTEMPTS) {
    return bad(`retryOptions.maxAttempts must be an integer from 0 to ${MAX_RETRY_ATTEMPTS}, got ${String(maxAttempts)}`)
  }
  if (!Number.isFinite(baseDelayMs) || baseDelayMs < 0 || baseDelayMs > MAX_DELAY_MS) {
    return bad(`retryOptions.baseDelayMs must be a number from 0 to ${MAX_DELAY_MS}, got ${String(baseDelayMs)}`)
  }
  if (!Number.isFinite(delayMultiplier) || delayMultiplier < 1 || delayMultiplier > 100) {
    return bad(`retryOptions.delayMultiplier must be a number from 1 to 100, got ${String(delayMultiplier)}`)
  }
  if (!Number.isFinite(maxDelayMs) || maxDelayMs < 0 || maxDelayMs > MAX_DELAY_MS) {
    return bad(`retryOptions.maxDelayMs must be a number from 0 to ${MAX_DELAY_MS}, got ${String(maxDelayMs)}`)
  }
  return { _tag: "Right", options: { maxAttempts, baseDelayMs, delayMultiplier, maxDelayMs } }
}
