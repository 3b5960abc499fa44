/**
 * `durable-tasks list`: executions matching the filters, newest first, one page at a time
 * (`--limit`, then `--cursor` with the printed next cursor).
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { common, filters, toListOptions } from "./Filters.js"
import { print, printJson } from "./Output.js"
import { listTable } from "./Render.js"
import { withClient } from "./Run.js"

/** @since 0.1.0 @category commands */
export const list = Command.make("list", {
  ...common,
  ...filters,
  limit: Options.integer("limit").pipe(
    Options.withDescription("executions per page, 1 to 1000"),
    Options.withDefault(20)
  ),
  cursor: Options.text("cursor").pipe(
    Options.withDescription("the next page: the cursor the last page printed"),
    Options.optional
  )
}, (args) =>
  withClient(args, (client, p, nowMs) =>
    Effect.gen(function*() {
      const page = yield* client.listExecutions({
        ...(yield* toListOptions(args, nowMs)),
        limit: args.limit,
        cursor: Option.getOrUndefined(args.cursor)
      })
      if (args.json) return yield* printJson(page)
      if (page.executions.length === 0) return yield* print("no executions")
      yield* print(listTable(p, page.executions))
      if (page.nextCursor !== null) yield* print(p.paint("dim", `next page: --cursor ${page.nextCursor}`))
    }))).pipe(Command.withDescription("list executions, newest first (filters: --status, --task, --root, …)"))
