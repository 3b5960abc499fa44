/**
 * `durable-tasks show ID`: one execution, its values, and each kept attempt with its error's stack.
 *
 * @since 0.1.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Effect from "effect/Effect"
import { common } from "./Filters.js"
import { print, printJson } from "./Output.js"
import { details } from "./Render.js"
import { withClient } from "./Run.js"

/** The execution id argument. @since 0.1.0 @category args */
export const executionId = Args.text({ name: "ID" }).pipe(Args.withDescription("an execution id (te_…)"))

/** @since 0.1.0 @category commands */
export const show = Command.make(
  "show",
  { ...common, id: executionId },
  (args) =>
    withClient(
      args,
      (client, p) =>
        Effect.flatMap(client.get(args.id), (execution) =>
          args.json ? printJson(execution) : print(details(p, execution)))
    )
).pipe(
  Command.withDescription("show an execution with its attempts and their errors")
)
