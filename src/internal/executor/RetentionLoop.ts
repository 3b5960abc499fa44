/**
 * The retention loop (executor option `retention`): every minute (more often for ages under two
 * minutes), deletes the whole finished trees
 * older than the configured ages, in batches (`ExecutionQueries.purgeAll`). A tree with an
 * unfinished execution is never touched; several executors running it at once is safe (each batch
 * is one transaction; Postgres skips roots another one holds).
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { purgeAll } from "../../ExecutionQueries.js"
import type { RetentionSettings } from "../../ExecutorConfig.js"
import { FINISHED_STATUSES, type TaskStatus } from "../../TaskStatus.js"
import type { TaskStorage } from "../../TaskStorage.js"
import type { ExecutorState } from "./ExecutorState.js"
import * as Loop from "./Loop.js"

/**
 * How often the loop looks at most: every minute, or every half of the shortest age when that is
 * shorter (at least every second). @since 0.1.0 @category constants
 */
export const INTERVAL_MS = 60_000

const UNSUCCESSFUL: ReadonlyArray<TaskStatus> = [...FINISHED_STATUSES].filter((s) => s !== "completed")

/** @since 0.1.0 @category loops */
export const run = (args: {
  readonly state: ExecutorState
  readonly storage: TaskStorage["Type"]
  readonly retention: RetentionSettings
}): Effect.Effect<void> => {
  const { completedMs, unsuccessfulMs } = args.retention
  const youngest = Math.min(completedMs ?? INTERVAL_MS * 2, unsuccessfulMs ?? INTERVAL_MS * 2)
  const intervalMs = Math.min(INTERVAL_MS, Math.max(1_000, Math.floor(youngest / 2)))
  const step = Effect.gen(function*() {
    if (args.state.stopping) return false
    const nowMs = yield* Clock.currentTimeMillis
    let deleted = 0
    if (completedMs !== undefined) deleted += yield* purgeAll(args.storage, nowMs - completedMs, ["completed"])
    if (unsuccessfulMs !== undefined) deleted += yield* purgeAll(args.storage, nowMs - unsuccessfulMs, UNSUCCESSFUL)
    if (deleted > 0) yield* Effect.logDebug(`durable-tasks: retention deleted ${deleted} finished execution(s)`)
    yield* Effect.sleep(intervalMs)
    return true
  })
  return Loop.run("retention", step, intervalMs)
}
