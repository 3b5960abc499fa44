/**
 * `durable-tasks purge --finished-before TIME [--status S]`: deletes whole finished trees whose root
 * finished before the time (an age such as `7d` counts back from now), never a tree with an
 * unfinished execution; prints how many executions were deleted.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Effect from "effect/Effect"
import { common, parseStatuses, parseTime, status } from "./Filters.js"
import { print, printJson, time } from "./Output.js"
import { withClient } from "./Run.js"

/** @since 0.1.0 @category commands */
export const purge = Command.make("purge", {
  ...common,
  finishedBefore: Options.text("finished-before").pipe(
    Options.withDescription("delete trees whose root finished before this (ISO 8601, epoch ms, or an age: 7d)")
  ),
  status
}, (args) =>
  withClient(args, (client, _p, nowMs) =>
    Effect.gen(function*() {
      const finishedBefore = yield* parseTime("finished-before", args.finishedBefore, nowMs)
      const deleted = yield* client.purgeExecutions({ finishedBefore, status: parseStatuses(args.status) })
      if (args.json) return yield* printJson({ deleted, finishedBefore: new Date(finishedBefore) })
      yield* print(
        `deleted ${deleted} execution${deleted === 1 ? "" : "s"} (trees finished before ${
          time(new Date(finishedBefore))
        })`
      )
    }))).pipe(Command.withDescription("delete finished trees older than a time"))
