/**
 * The platform services `@effect/cli` asks for, without `@effect/platform-node`: a terminal that
 * writes to stdout and reads nothing (the CLI never prompts; `--wizard` quits at once), the POSIX
 * `Path`, and a file system that refuses (no command takes a file). Keeping `@effect/platform-node`
 * out keeps the bin's dependencies small: it would bring `@effect/cluster`, `@effect/rpc`, `ws`,
 * `undici` and a native file watcher along.
 *
 * @since 0.1.0
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Terminal from "@effect/platform/Terminal"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Mailbox from "effect/Mailbox"

/** A terminal on the process's stdout that reads no input. @since 0.1.0 @category constructors */
export const terminal: Terminal.Terminal = {
  columns: Effect.sync(() => process.stdout.columns ?? 80),
  rows: Effect.sync(() => process.stdout.rows ?? 24),
  isTTY: Effect.sync(() => process.stdout.isTTY === true),
  readInput: Effect.flatMap(Mailbox.make<Terminal.UserInput>(), (mailbox) => Effect.as(mailbox.end, mailbox)),
  readLine: Effect.fail(new Terminal.QuitException()),
  display: (text) => Effect.sync(() => void process.stdout.write(text))
}

/** Terminal, Path and FileSystem for `Command.run`. @since 0.1.0 @category layers */
export const layer: Layer.Layer<Terminal.Terminal | Path.Path | FileSystem.FileSystem> = Layer.mergeAll(
  Layer.succeed(Terminal.Terminal, terminal),
  Path.layer,
  FileSystem.layerNoop({})
)
