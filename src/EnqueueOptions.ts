/**
 * The options of one enqueue (Effect API and Promise facade): overrides of the task's settings, an
 * idempotency key, and when the first run may start.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import type { RetryOptions } from "./RetryOptions.js"

/**
 * Per-enqueue options: overrides of the task's settings, an idempotency key, and when the first run
 * may start. At most one of `sleepMsBeforeRun`, `delay`, `delayMs` and `startAt`.
 *
 * @since 0.1.0
 * @category models
 */
export interface EnqueueOptions {
  readonly timeoutMs?: number | undefined
  readonly retryOptions?: Partial<RetryOptions> | undefined
  readonly sleepMsBeforeRun?: number | undefined
  /**
   * The first enqueue with this key creates the execution; every later one of the same task with
   * the same key, from any process, returns that execution's id, whatever its status (its input is
   * the first one's: a later input is ignored, not compared). 1 to 255 characters; kept as long as
   * the execution's row.
   */
  readonly idempotencyKey?: string | undefined
  /** Delay before the first run, instead of the task's `sleepMsBeforeRun` (stored: a restart keeps it). */
  readonly delay?: Duration.DurationInput | undefined
  /** {@link delay} in milliseconds (the Promise facade's name). */
  readonly delayMs?: number | undefined
  /** The first run starts at this time, not before (a time in the past: at once). Stored. */
  readonly startAt?: Date | undefined
  /** Claim order among due ready executions: higher first; an integer, 0 by default (stored). */
  readonly priority?: number | undefined
  /** The key the task's `concurrency.perKey` limit counts by (1 to 255 characters; stored). */
  readonly concurrencyKey?: string | undefined
}

/**
 * Options of `DurableExecutor.enqueueMany` (facade: `enqueueTasks`): those of one enqueue, with one idempotency
 * key per input, made by a function of the input and its index.
 *
 * @since 0.1.0
 * @category models
 */
export interface EnqueueManyOptions<I = any> extends Omit<EnqueueOptions, "idempotencyKey"> {
  readonly idempotencyKey?: ((input: I, index: number) => string) | undefined
}

/** Longest idempotency key, in UTF-16 code units (a string's `length`). @since 0.1.0 @category limits */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255

/** Longest delay (`delay`, `delayMs`): 100 years of 365.25 days. @since 0.1.0 @category limits */
export const MAX_DELAY_MS = 3_155_760_000_000
