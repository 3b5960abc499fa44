/**
 * `durable-tasks stats`: how many executions there are per status and per task id.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as Effect from "effect/Effect"
import { TASK_STATUSES, type TaskStatus } from "../TaskStatus.js"
import { common } from "./Filters.js"
import { print, printJson, table } from "./Output.js"
import { withClient } from "./Run.js"

/** @since 0.1.0 @category commands */
export const stats = Command.make("stats", common, (args) =>
  withClient(args, (client, p) =>
    Effect.gen(function*() {
      const byStatus = yield* client.countExecutions({ by: "status" })
      const byTaskId = yield* client.countExecutions({ by: "taskId" })
      if (args.json) return yield* printJson({ byStatus, byTaskId })
      const total = Object.values(byStatus).reduce((a, b) => a + b, 0)
      const statuses = TASK_STATUSES.filter((s) => byStatus[s] !== undefined)
      const tasks = Object.entries(byTaskId).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      yield* print([
        ...table(p, ["STATUS", "EXECUTIONS"], statuses.map((s: TaskStatus) => [p.status(s), String(byStatus[s])])),
        `${p.paint("bold", "total")}  ${total}`,
        "",
        ...table(p, ["TASK", "EXECUTIONS"], tasks.map(([task, n]) => [task, String(n)]))
      ])
    }))).pipe(Command.withDescription("count executions per status and per task"))
