/**
 * Runs a command's body with the {@link Database.Client} of its `--db`, and turns every failure into
 * a {@link CliError}: a bad filter names its flag (`--limit must be …`), an unknown id and a storage
 * failure become one-line messages.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type { ClientService } from "../DurableExecutor.js"
import type { ExecutionNotFound, InvalidQuery, StorageError } from "../EngineError.js"
import { type CliError, failure, oneLine, usage } from "./CliError.js"
import * as Database from "./Database.js"
import { type CommonArgs, FLAG_OF } from "./Filters.js"
import { type Painter, painter, useColor } from "./Output.js"

/** What a command's body may fail with. @since 0.1.0 @category models */
export type BodyError = CliError | InvalidQuery | ExecutionNotFound | StorageError

/**
 * A command's body: the client, the painter (no colors under `--json`), the current time.
 *
 * @since 0.1.0
 * @category models
 */
export type Body = (client: ClientService, p: Painter, nowMs: number) => Effect.Effect<void, BodyError>

const queryError = (e: InvalidQuery): CliError => {
  const flag = FLAG_OF[e.field]
  return usage(
    oneLine(flag !== undefined && e.message.startsWith(e.field) ? flag + e.message.slice(e.field.length) : e.message)
  )
}

/** Runs `body` on the storage that `args.db` (or `DURABLE_TASKS_DB`) names. @since 0.1.0 @category utils */
export const withClient = (args: CommonArgs, body: Body): Effect.Effect<void, CliError> =>
  Effect.gen(function*() {
    const spec = yield* Either.match(Database.resolve(Option.getOrUndefined(args.db)), {
      onLeft: Effect.fail,
      onRight: Effect.succeed
    })
    const layer = Database.layerClient(spec, {
      tablePrefix: Option.getOrUndefined(args.tablePrefix),
      schema: Option.getOrUndefined(args.schema)
    })
    const p = painter(!args.json && useColor())
    return yield* Effect.flatMap(Database.Client, (client) => body(client, p, Date.now())).pipe(
      Effect.catchTags({
        InvalidQuery: (e) => Effect.fail(queryError(e)),
        ExecutionNotFound: (e) => Effect.fail(failure(`no execution ${e.executionId} in ${Database.describe(spec)}`)),
        StorageError: (e) => Effect.fail(failure(oneLine(e.message)))
      }),
      Effect.provide(layer),
      Effect.scoped
    )
  })
