/**
 * The CLI's one error: a one-line message and the process exit code (1: the operation failed,
 * 2: the command line or `--db` is wrong). Every failure of a command becomes one of these before
 * it reaches `main`, which prints `durable-tasks: <message>` and exits with the code.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"

/** Exit code of a failed operation (storage, unknown id). @since 0.1.0 @category constants */
export const EXIT_FAILURE = 1
/** Exit code of a bad command line (flag, value, `--db`). @since 0.1.0 @category constants */
export const EXIT_USAGE = 2

/** @since 0.1.0 @category errors */
export class CliError extends Data.TaggedError("CliError")<{
  readonly message: string
  readonly exitCode: number
}> {}

/** A usage error (exit code 2). @since 0.1.0 @category constructors */
export const usage = (message: string): CliError => new CliError({ message, exitCode: EXIT_USAGE })

/** An operation's failure (exit code 1). @since 0.1.0 @category constructors */
export const failure = (message: string): CliError => new CliError({ message, exitCode: EXIT_FAILURE })

/** The message on one line: newlines and runs of spaces collapsed. @since 0.1.0 @category utils */
export const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, " ").replace(/\s{2,}/g, " ").trim()
