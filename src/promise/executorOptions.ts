/**
 * The Promise facade's executor options, checked: the engine's settings (an unknown key is named
 * with the nearest valid one, a bad value by its field) and the engine's log level.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as LogLevel from "effect/LogLevel"
import { type ExecutorSettings, fromOptions } from "../ExecutorConfig.js"
import { describeValue } from "../internal/OptionKeys.js"
import { DurableExecutorOptionsError } from "./errors.js"

/** The facade's log levels and the Effect log level each stands for. @since 0.1.0 @category constants */
export const logLevels = {
  none: LogLevel.None,
  error: LogLevel.Error,
  warning: LogLevel.Warning,
  info: LogLevel.Info,
  debug: LogLevel.Debug
} as const

/** A facade log level. @since 0.1.0 @category models */
export type DurableLogLevel = keyof typeof logLevels

/**
 * The settings and log level of `new DurableExecutor(storage, options)`; throws
 * `DurableExecutorOptionsError` naming the first problem.
 *
 * @since 0.1.0
 * @category validation
 */
export const checkExecutorOptions = (
  options: unknown
): { readonly settings: ExecutorSettings; readonly logLevel: LogLevel.LogLevel } => {
  const settings = fromOptions(options, "executor options", { durations: false, extraKeys: ["logLevel"] })
  if (Either.isLeft(settings)) throw new DurableExecutorOptionsError(`invalid ${settings.left}`)
  const level = (options as { readonly logLevel?: unknown } | undefined)?.logLevel ?? "warning"
  if (typeof level !== "string" || !Object.hasOwn(logLevels, level)) {
    throw new DurableExecutorOptionsError(
      `invalid executor options: logLevel must be one of ${Object.keys(logLevels).map((l) => `"${l}"`).join(", ")}` +
        `, got ${describeValue(level)}`
    )
  }
  return { settings: settings.right, logLevel: logLevels[level as DurableLogLevel] }
}
