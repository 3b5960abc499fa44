/**
 * Executor settings, with documented defaults; their validation (a bad value or an unknown key is
 * named, with the nearest valid key), and their sources: options in code, or Effect `Config`
 * (environment variables `DURABLE_TASKS_*`).
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { InvalidExecutorConfig } from "./EngineError.js"
import { describeValue, unknownKeyProblem } from "./internal/OptionKeys.js"

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
  /**
   * How long finished trees are kept (README "Operating"): a loop deletes, every minute (or half the
   * shortest age, when under two minutes), the trees
   * whose root completed more than `completedMs` ago, or finished without success more than
   * `unsuccessfulMs` ago. Default: kept forever (a kind left out is kept forever too).
   */
  readonly retention: RetentionSettings | undefined
  /**
   * A debug option: when tracing, each storage call is a `durable-tasks.storage.<method>` span, with
   * the SQL driver's spans under it. Default false: storage calls make no spans.
   */
  readonly traceStorage: boolean
}

/** @since 0.1.0 @category models */
export interface RetentionSettings {
  readonly completedMs?: number | undefined
  readonly unsuccessfulMs?: number | undefined
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
  finishBatchSize: 256,
  retention: undefined,
  traceStorage: false
}

/** The setting names. @since 0.1.0 @category constants */
export const settingNames: ReadonlyArray<keyof ExecutorSettings> = Object.keys(defaults) as Array<
  keyof ExecutorSettings
>

/**
 * The settings that are durations, by the name the Effect API also accepts as a `Duration.DurationInput`
 * (`leaseLeeway: "10 seconds"` for `leaseLeewayMs: 10_000`).
 *
 * @since 0.1.0
 * @category constants
 */
export const durationSettings = {
  leaseLeeway: "leaseLeewayMs",
  pollInterval: "pollIntervalMs",
  shutdownGracePeriod: "shutdownGracePeriodMs"
} as const satisfies Record<string, keyof ExecutorSettings>

/**
 * Executor settings as the Effect API takes them: each `…Ms` setting also as a duration. @since 0.1.0 @category models
 */
export interface ExecutorOptions extends Partial<ExecutorSettings> {
  readonly leaseLeeway?: Duration.DurationInput | undefined
  readonly pollInterval?: Duration.DurationInput | undefined
  readonly shutdownGracePeriod?: Duration.DurationInput | undefined
}

/** @since 0.1.0 @category tags */
export class ExecutorConfig extends Context.Tag("durable-tasks/ExecutorConfig")<ExecutorConfig, ExecutorSettings>() {}

const retentionProblem = (r: unknown): string | undefined => {
  if (r === undefined) return undefined
  if (r === null || typeof r !== "object" || Array.isArray(r)) {
    return `retention must be an object { completedMs?, unsuccessfulMs? }, got ${describeValue(r)}`
  }
  const unknown = unknownKeyProblem(r, ["completedMs", "unsuccessfulMs"], "retention")
  if (unknown !== undefined) return unknown
  for (const name of ["completedMs", "unsuccessfulMs"] as const) {
    const v = (r as RetentionSettings)[name]
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= 0)) {
      return `retention.${name} must be a non-negative integer of milliseconds, got ${describeValue(v)}`
    }
  }
  return undefined
}

/** Checks settings; returns a message naming the first bad field, or undefined. @since 0.1.0 @category validation */
export const validate = (s: ExecutorSettings): string | undefined => {
  const int = (name: keyof ExecutorSettings, min: number, max: number) => {
    const v = s[name]
    if (typeof v !== "number") return `${name} must be a number, got ${describeValue(v)}`
    return Number.isInteger(v) && v >= min && v <= max
      ? undefined
      : `${name} must be an integer from ${min} to ${max}, got ${String(v)}`
  }
  return int("leaseLeewayMs", 0, 86_400_000) ?? int("maxConcurrentTaskExecutions", 1, 100_000) ??
    int("pollIntervalMs", 1, 3_600_000) ?? int("shutdownGracePeriodMs", 0, 86_400_000) ??
    int("maxSerializedValueBytes", 16, 1_073_741_824) ?? int("maxChildrenPerParent", 1, 100_000) ??
    int("finishBatchSize", 1, 10_000) ?? retentionProblem(s.retention) ??
    (typeof s.traceStorage === "boolean"
      ? undefined
      : `traceStorage must be a boolean, got ${describeValue(s.traceStorage)}`) ??
    (s.executorId !== undefined && (typeof s.executorId !== "string" || !/^[A-Za-z0-9_.:-]{1,128}$/.test(s.executorId))
      ? `executorId must be 1 to 128 characters of letters, digits, _ . : -, got ${describeValue(s.executorId)}`
      : undefined)
}

/**
 * Settings from options over the defaults: refuses an unknown key (naming the nearest valid one),
 * a duration given twice (`pollInterval` and `pollIntervalMs`), a duration that does not decode,
 * and any invalid value. `extraKeys` are keys the caller handles itself (`logLevel`); `durations: false`
 * accepts only the `…Ms` names (the Promise facade).
 *
 * @since 0.1.0
 * @category validation
 */
export const fromOptions = (
  options: unknown,
  where: string,
  { durations = true, extraKeys = [] }: { readonly extraKeys?: ReadonlyArray<string>; readonly durations?: boolean } =
    {}
): Either.Either<ExecutorSettings, string> => {
  if (options === undefined) return Either.right(defaults)
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    return Either.left(`${where} must be an object, got ${describeValue(options)}`)
  }
  const known = [...settingNames, ...(durations ? Object.keys(durationSettings) : []), ...extraKeys]
  const unknown = unknownKeyProblem(options, known, where)
  if (unknown !== undefined) return Either.left(unknown)
  const record = options as Record<string, unknown>
  const settings: Record<string, unknown> = { ...defaults }
  for (const name of settingNames) if (record[name] !== undefined) settings[name] = record[name]
  for (const [name, msName] of Object.entries(durationSettings)) {
    const value = record[name]
    if (value === undefined) continue
    if (record[msName] !== undefined) return Either.left(`${where}: give ${name} or ${msName}, not both`)
    const decoded = Duration.decodeUnknown(value)
    if (Option.isNone(decoded)) {
      return Either.left(`${name} must be a duration (e.g. "10 seconds"), got ${describeValue(value)}`)
    }
    settings[msName] = Duration.toMillis(decoded.value)
  }
  const problem = validate(settings as unknown as ExecutorSettings)
  return problem === undefined
    ? Either.right(settings as unknown as ExecutorSettings)
    : Either.left(`${where}: ${problem}`)
}

/**
 * A layer from options over the defaults; fails with {@link InvalidExecutorConfig} when they are invalid.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: ExecutorOptions): Layer.Layer<ExecutorConfig, InvalidExecutorConfig> =>
  Layer.effect(
    ExecutorConfig,
    Either.match(fromOptions(options, "executor options"), {
      onLeft: (message) => Effect.fail(new InvalidExecutorConfig({ message })),
      onRight: Effect.succeed
    })
  )

/** `leaseLeewayMs` → `DURABLE_TASKS_LEASE_LEEWAY_MS`: one flat name, the same in any `ConfigProvider`. */
const constantCase = (name: string): string =>
  `DURABLE_TASKS_${name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase()}`

/**
 * The settings from Effect `Config`: each setting is read as `DURABLE_TASKS_` plus its name in
 * constant case (`DURABLE_TASKS_MAX_CONCURRENT_TASK_EXECUTIONS`, `DURABLE_TASKS_POLL_INTERVAL_MS`),
 * from the current `ConfigProvider` (the environment by default). A setting that is not set
 * keeps the value of `options` (or the default).
 *
 * @since 0.1.0
 * @category config
 */
export const config = (options?: ExecutorOptions): Effect.Effect<ExecutorSettings, InvalidExecutorConfig> =>
  Effect.gen(function*() {
    const base = fromOptions(options, "executor options")
    if (Either.isLeft(base)) return yield* new InvalidExecutorConfig({ message: base.left })
    const read = Config.all({
      executorId: Config.option(Config.string(constantCase("executorId"))),
      traceStorage: Config.option(Config.boolean(constantCase("traceStorage"))),
      ...Object.fromEntries(
        settingNames.filter((n) => n !== "executorId" && n !== "retention" && n !== "traceStorage").map((
          n
        ) => [n, Config.option(Config.integer(constantCase(n)))])
      )
    })
    const values = yield* Effect.mapError(
      read,
      (error) => new InvalidExecutorConfig({ message: `executor config: ${String(error)}` })
    )
    const settings: Record<string, unknown> = { ...base.right }
    for (const [name, value] of Object.entries(values)) {
      if (Option.isSome(value as Option.Option<unknown>)) settings[name] = (value as Option.Some<unknown>).value
    }
    const problem = validate(settings as unknown as ExecutorSettings)
    if (problem !== undefined) return yield* new InvalidExecutorConfig({ message: `executor config: ${problem}` })
    return settings as unknown as ExecutorSettings
  })

/** {@link config} as a layer. @since 0.1.0 @category layers */
export const layerConfig = (options?: ExecutorOptions): Layer.Layer<ExecutorConfig, InvalidExecutorConfig> =>
  Layer.effect(ExecutorConfig, config(options))
