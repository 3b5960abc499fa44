/**
 * `durable-tasks cancel ID`: cancels an unfinished execution and its whole subtree, through the
 * engine's cancel transition on the stored rows (an executor running it is interrupted: at once on
 * Postgres through `NOTIFY`, at its next lease check on SQLite). A finished execution is left as it is.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as Effect from "effect/Effect"
import { isFinished } from "../TaskStatus.js"
import { common } from "./Filters.js"
import { print, printJson } from "./Output.js"
import { withClient } from "./Run.js"
import { executionId } from "./show.js"

/** @since 0.1.0 @category commands */
export const cancel = Command.make(
  "cancel",
  { ...common, id: executionId },
  (args) =>
    withClient(args, (client, p) =>
      Effect.gen(function*() {
        const before = yield* client.get(args.id)
        const after = yield* client.cancel(args.id)
        if (args.json) return yield* printJson({ cancelled: !isFinished(before.status), execution: after })
        yield* print(
          isFinished(before.status)
            ? `${args.id} is already finished (${p.status(before.status)}): nothing to cancel`
            : `${args.id} ${p.status(after.status)} (was ${p.status(before.status)}), with its unfinished descendants`
        )
      }))
).pipe(Command.withDescription("cancel an unfinished execution and its subtree"))
