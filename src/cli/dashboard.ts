/**
 * `durable-tasks dashboard --db sqlite:PATH | postgres://…`: serves the browser dashboard over that
 * storage (`--host`, default 127.0.0.1; `--port`, default 4280; `--token`, default random per run;
 * `--read-only`). `--db` defaults to `DURABLE_TASKS_DB`, as for every command. The server (and with it
 * `@effect/platform-node`, an optional peer) is loaded only when this command runs, so the other
 * commands work without it.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { DEFAULT_PORT } from "../dashboard/DefaultPort.js"
import { failure, oneLine } from "./CliError.js"
import * as Database from "./Database.js"
import { common } from "./Filters.js"

const host = Options.text("host").pipe(
  Options.withDefault("127.0.0.1"),
  Options.withDescription("the address to bind (a warning is printed when it is not a loopback address)")
)
const port = Options.integer("port").pipe(Options.withDefault(DEFAULT_PORT), Options.withDescription("the port"))
const token = Options.text("token").pipe(
  Options.optional,
  Options.withDescription("the access token (default: random for this run, printed in the URL)")
)
const readOnly = Options.boolean("read-only").pipe(Options.withDescription("hide and refuse cancel and retry"))

const loadServer = Effect.tryPromise({
  try: () => import("../dashboard/Serve.js"),
  catch: (error) =>
    failure(oneLine(
      `the dashboard needs @effect/platform-node (npm install @effect/platform-node): ${String(error)}`
    ))
})

/** The `dashboard` subcommand. @since 0.1.0 @category commands */
export const dashboard = Command.make(
  "dashboard",
  { db: common.db, tablePrefix: common.tablePrefix, schema: common.schema, host, port, token, readOnly },
  (args) =>
    Effect.gen(function*() {
      const spec = yield* Either.match(Database.resolve(Option.getOrUndefined(args.db)), {
        onLeft: Effect.fail,
        onRight: Effect.succeed
      })
      const Serve = yield* loadServer
      return yield* Serve.serve({
        host: args.host,
        port: args.port,
        token: Option.getOrUndefined(args.token),
        readOnly: args.readOnly
      }).pipe(
        Effect.catchAll((e) => Effect.fail(failure(oneLine(`dashboard: ${e.message}`)))),
        Effect.provide(Database.layerStorage(spec, {
          tablePrefix: Option.getOrUndefined(args.tablePrefix),
          schema: Option.getOrUndefined(args.schema)
        }))
      )
    })
).pipe(Command.withDescription("serve the browser dashboard (overview, executions, trees, errors, cancel, retry)"))
