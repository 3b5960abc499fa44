/**
 * `durable-tasks tree ID`: the tree under an execution (give a root for the whole tree), one line
 * per execution with its status, duration and error.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as Effect from "effect/Effect"
import { common } from "./Filters.js"
import { print, printJson } from "./Output.js"
import { treeLines } from "./Render.js"
import { withClient } from "./Run.js"
import { executionId } from "./show.js"

/** @since 0.1.0 @category commands */
export const tree = Command.make(
  "tree",
  { ...common, id: executionId },
  (args) =>
    withClient(
      args,
      (client, p) =>
        Effect.flatMap(client.getExecutionTree(args.id), (t) => args.json ? printJson(t) : print(treeLines(p, t)))
    )
).pipe(
  Command.withDescription("draw the tree of executions under an execution")
)
