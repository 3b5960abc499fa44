/**
 * The engine's debug logs of an execution's life: claimed, and each attempt's outcome (succeeded,
 * failed with its error, timed out), annotated with `executionId`, `taskId` and `attempt` so an
 * app can route or filter them. The executor calls these only when the minimum log level is debug.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type { ExecutionRow } from "../../ExecutionRow.js"
import type * as Planner from "../../Planner.js"

const annotated = (row: ExecutionRow, effect: Effect.Effect<void>): Effect.Effect<void> =>
  Effect.annotateLogs(effect, { executionId: row.executionId, taskId: row.taskId, attempt: row.retryAttempts })

/** A claimed execution: `ready → running`. @since 0.1.0 */
export const claimed = (row: ExecutionRow, executorId: string): Effect.Effect<void> =>
  annotated(row, Effect.logDebug(`durable-tasks: claimed (ready → running) by ${executorId}`))

/** An attempt's outcome, as the runner reports it before it is written. @since 0.1.0 */
export const outcome = (row: ExecutionRow, event: Planner.Event): Effect.Effect<void> => {
  switch (event._tag) {
    case "RunSucceeded":
      return annotated(
        row,
        Effect.logDebug(
          event.children.length > 0
            ? `durable-tasks: attempt succeeded with ${event.children.length} children (→ waiting_for_children_tasks)`
            : event.finalize !== null
            ? "durable-tasks: attempt succeeded (→ waiting_for_finalize_task)"
            : "durable-tasks: attempt succeeded (→ completed)"
        )
      )
    case "RunFailed":
      return annotated(
        row,
        Effect.logDebug(
          `durable-tasks: attempt ${event.timedOut ? "timed out" : "failed"}` +
            ` (${event.error.isRetryable ? "retryable" : "not retryable"}): ${event.error.message}`
        ).pipe(Effect.annotateLogs("errorType", event.error.errorType))
      )
    default:
      return annotated(row, Effect.logDebug(`durable-tasks: ${event._tag}`))
  }
}
