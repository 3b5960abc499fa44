/**
 * `durable-tasks dashboard --db <file or postgres:// URL>`: serves the browser dashboard over that
 * storage (`--host`, default 127.0.0.1; `--port`, default 4280; `--token`, default random per run;
 * `--read-only`). The CLI's main adds it as a subcommand.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Database from "../dashboard/Database.js"
import * as Serve from "../dashboard/Serve.js"

const db = Options.text("db").pipe(
  Options.withDescription("the storage: a SQLite file path or a postgres:// URL")
)
const host = Options.text("host").pipe(
  Options.withDefault("127.0.0.1"),
  Options.withDescription("the address to bind (a warning is printed when it is not a loopback address)")
)
const port = Options.integer("port").pipe(Options.withDefault(Serve.DEFAULT_PORT), Options.withDescription("the port"))
const token = Options.text("token").pipe(
  Options.optional,
  Options.withDescription("the access token (default: random for this run, printed in the URL)")
)
const readOnly = Options.boolean("read-only").pipe(Options.withDescription("hide and refuse cancel and retry"))

/** The `dashboard` subcommand. @since 0.1.0 @category commands */
export const dashboard = Command.make(
  "dashboard",
  { db, host, port, token, readOnly },
  (args) =>
    Serve.serve({
      host: args.host,
      port: args.port,
      token: Option.getOrUndefined(args.token),
      readOnly: args.readOnly
    }).pipe(Effect.provide(Database.layer(args.db)))
).pipe(Command.withDescription("serve the browser dashboard (overview, executions, trees, errors, cancel)"))
