/**
 * `durable-tasks retry ID`: runs an execution that finished without success again, with a fresh
 * retry budget and the same id (the engine's retry transition on the stored rows); the app's
 * executors run it. On a parent only its unsuccessful descendants run again.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as Effect from "effect/Effect"
import { failure, oneLine } from "./CliError.js"
import { common } from "./Filters.js"
import { print, printJson } from "./Output.js"
import { withClient } from "./Run.js"
import { executionId } from "./show.js"

/** @since 0.1.0 @category commands */
export const retry = Command.make(
  "retry",
  { ...common, id: executionId },
  (args) =>
    withClient(args, (client, p) =>
      Effect.flatMap(
        client.retryExecution(args.id).pipe(
          Effect.catchTag("ExecutionNotRetryable", (e) => Effect.fail(failure(oneLine(e.message))))
        ),
        (execution) =>
          args.json
            ? printJson(execution)
            : print(`${args.id} ${p.status(execution.status)}: the app's executors run it again`)
      ))
).pipe(
  Command.withDescription("run an unsuccessful execution again (same id, fresh retry budget)")
)
