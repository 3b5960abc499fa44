#!/usr/bin/env node
/**
 * The `durable-tasks` command: look at, cancel and purge the stored executions of a SQLite file or a
 * Postgres database, without the app's task definitions. `durable-tasks --help` lists the commands;
 * each has its own `--help`. A failure prints one line, `durable-tasks: <why>`, to stderr and exits
 * with 1 (the operation failed) or 2 (the command line or `--db` is wrong).
 *
 * @since 0.1.0
 */
import "../internal/EffectVersion.js" // first: names an unsupported effect version
import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import { createRequire } from "node:module"
import { cancel } from "./cancel.js"
import { CliError, EXIT_FAILURE, EXIT_USAGE, oneLine } from "./CliError.js"
import { dashboard } from "./dashboard.js"
import { list } from "./list.js"
import { strip, useColor } from "./Output.js"
import { purge } from "./purge.js"
import { retry } from "./retry.js"
import { show } from "./show.js"
import { stats } from "./stats.js"
import * as Terminal from "./Terminal.js"
import { tree } from "./tree.js"

const NAME = "durable-tasks"

/** This package's version, from its package.json (two or three folders up: src/cli or dist/src/cli). */
const version = (): string => {
  const require = createRequire(import.meta.url)
  for (const candidate of ["../../package.json", "../../../package.json"]) {
    try {
      const manifest = require(candidate) as { name?: string; version?: string }
      if (manifest.name === NAME && manifest.version !== undefined) return manifest.version
    } catch {
      // not there: the next candidate
    }
  }
  return "0.0.0"
}

/** The root command and its subcommands. @since 0.1.0 @category commands */
export const command = Command.make(NAME).pipe(
  Command.withDescription(
    "operate the stored executions of durable-tasks: list, show, tree, retry, cancel, purge, stats, dashboard"
  ),
  Command.withSubcommands([list, show, tree, retry, cancel, purge, stats, dashboard])
)

/**
 * Runs the command line `argv` (as `process.argv`: node, script, arguments); resolves to the exit
 * code. Help goes to stdout; errors, one line each, to stderr.
 *
 * @since 0.1.0
 * @category running
 */
export const run = async (argv: ReadonlyArray<string>): Promise<number> => {
  const color = useColor()
  const plain = (text: unknown) => (color ? String(text) : strip(String(text)))
  let usageText = ""
  const program = Effect.flatMap(Effect.console, (base) =>
    Effect.withConsole(
      Command.run(command, { name: NAME, version: version() })(argv),
      {
        ...base,
        log: (...args) => Effect.sync(() => void process.stdout.write(`${args.map(plain).join(" ")}\n`)),
        // @effect/cli prints a usage error as a help document: kept to be printed on one line below
        error: (...args) => Effect.sync(() => void (usageText += `${args.map((a) => strip(String(a))).join(" ")}\n`))
      }
    )).pipe(Effect.provide(Terminal.layer), Logger.withMinimumLogLevel(LogLevel.None))
  const exit = await Effect.runPromiseExit(program)
  if (Exit.isSuccess(exit)) return 0
  const failure = Cause.failureOption(exit.cause)
  const report = (message: string, code: number) => {
    process.stderr.write(`${NAME}: ${oneLine(message)}\n`)
    return code
  }
  if (Option.isSome(failure)) {
    const error = failure.value
    if (error instanceof CliError) return report(error.message, error.exitCode)
    if (ValidationError.isValidationError(error)) {
      const text = usageText !== "" ? usageText : strip(HelpDoc.toAnsiText(error.error))
      return report(`${text} (see ${NAME} --help)`, EXIT_USAGE)
    }
  }
  const squashed = Cause.squash(exit.cause)
  return report(`unexpected error: ${squashed instanceof Error ? squashed.message : String(squashed)}`, EXIT_FAILURE)
}

run(process.argv).then((code) => {
  process.exitCode = code
}, (error: unknown) => {
  process.stderr.write(`${NAME}: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = EXIT_FAILURE
})
