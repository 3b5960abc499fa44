/**
 * Executor settings, with documented defaults.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"

/** @since 0.1.0 @category models */
export interface ExecutorSettings {
  /** Identifies this executor in leases. Default: random `ex_…`. */
  readonly executorId: string | undefined
  /** Added to a task's timeout to make its lease: a lease lapses `timeoutMs + leaseLeewayMs` after its claim. */
  readonly leaseLeewayMs: number
  /** Most executions this executor runs at once. */
  readonly maxConcurrentTaskExecutions: number
  /** Fallback interval of the loops when no wake-up arrives (lost notifications, other processes). */
  readonly pollIntervalMs: number
  /** How long shutdown waits for running executions before interrupting them and releasing their leases. */
  readonly shutdownGracePeriodMs: number
  /** Largest serialized input or output, in bytes. */
  readonly maxSerializedValueBytes: number
  /** Most children one parent run may return. */
  readonly maxChildrenPerParent: number
  /** Most finishes written in one storage transaction. */
  readonly finishBatchSize: number
}

/** @since 0.1.0 @category constants */
export const defaults: ExecutorSettings = {
  executorId: undefined,
  leaseLeewayMs: 10_000,
  maxConcurrentTaskExecutions: 1_000,
  pollIntervalMs: 1_000,
  shutdownGracePeriodMs: 10_000,
  maxSerializedValueBytes: 1_048_576,
  maxChildrenPerParent: 1_000,
  finishBatchSize: 256
}

/** @since 0.1.0 @category tags */
export class ExecutorConfig extends Context.Tag("durable-tasks/ExecutorConfig")<ExecutorConfig, ExecutorSettings>() {}

/** Checks settings; returns a message naming the first bad field, or undefined. @since 0.1.0 @category validation */
export const validate = (s: ExecutorSettings): string | undefined => {
  const int = (name: keyof ExecutorSettings, min: number, max: number) => {
    const v = s[name]
    return typeof v === "number" && Number.isInteger(v) && v >= min && v <= max
      ? undefined
      : `${name} must be an integer from ${min} to ${max}, got ${String(v)}`
  }
  return int("leaseLeewayMs", 0, 86_400_000) ?? int("maxConcurrentTaskExecutions", 1, 100_000) ??
    int("pollIntervalMs", 1, 3_600_000) ?? int("shutdownGracePeriodMs", 0, 86_400_000) ??
    int("maxSerializedValueBytes", 16, 1_073_741_824) ?? int("maxChildrenPerParent", 1, 100_000) ??
    int("finishBatchSize", 1, 10_000) ??
    (s.executorId !== undefined && !/^[A-Za-z0-9_.:-]{1,128}$/.test(s.executorId)
      ? `executorId must be 1 to 128 characters of letters, digits, _ . : -, got ${JSON.stringify(s.executorId)}`
      : undefined)
}

/** A layer from partial settings over the defaults (not validated: see {@link validate}). @since 0.1.0 @category layers */
export const layer = (options?: Partial<ExecutorSettings>): Layer.Layer<ExecutorConfig> =>
  Layer.succeed(ExecutorConfig, { ...defaults, ...options })
