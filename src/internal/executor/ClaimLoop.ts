/**
 * The claim loop: claims due executions of registered tasks up to the free concurrency slots and
 * starts a runner for each. It sleeps on wake-ups (enqueue, freed slot), the next due `startAt`,
 * or the fallback poll interval.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type { ExecutionRow } from "../../ExecutionRow.js"
import type { Ids } from "../../Ids.js"
import type { RegistryService } from "../../Registry.js"
import type { TaskStorage } from "../../TaskStorage.js"
import type { ExecutorState } from "./ExecutorState.js"
import * as Loop from "./Loop.js"

/** @since 0.1.0 @category loops */
export const run = (args: {
  readonly state: ExecutorState
  readonly storage: TaskStorage["Type"]
  readonly registry: RegistryService
  readonly ids: Ids["Type"]
  readonly executorId: string
  readonly maxConcurrent: number
  readonly leaseLeewayMs: number
  readonly pollIntervalMs: number
  /** Starts a runner for a row claimed at `nowMs`. */
  readonly start: (row: ExecutionRow, nowMs: number) => Effect.Effect<void>
}): Effect.Effect<void> => {
  const { state } = args
  const step = Effect.gen(function*() {
    if (state.stopping) return false
    const version = state.claimWakeup.version
    const free = args.maxConcurrent - state.running.size
    let waitMs = args.pollIntervalMs
    if (free > 0 && args.registry.taskIds.size > 0) {
      const nowMs = yield* Clock.currentTimeMillis
      const claimId = yield* args.ids.next("l_")
      // A claim and the start of its runners are one step: shutdown interrupting between them would leave
      // claimed rows `running` with no runner and no release until their leases lapse (counting an attempt).
      const claimed = yield* args.storage.claim({
        nowMs,
        limit: free,
        taskIds: args.registry.taskIds,
        executorId: args.executorId,
        claimId,
        leaseLeewayMs: args.leaseLeewayMs,
        flow: args.registry.flow.size === 0 ? undefined : args.registry.flow
      }).pipe(
        Effect.catchAll((error) =>
          Effect.as(Effect.logWarning("durable-tasks: claim failed; retrying after the poll interval", error), [])
        ),
        Effect.tap((rows) => Effect.forEach(rows, (row) => args.start(row, nowMs), { discard: true })),
        Effect.uninterruptible
      )
      if (claimed.length > 0 && claimed.length === free) return true
      if (claimed.length > 0) {
        yield* Effect.yieldNow()
        return true
      }
      const next = yield* args.storage.nextWake(args.registry.taskIds).pipe(
        Effect.catchAll(() => Effect.succeed({ readyAtMs: null, expiresAtMs: null }))
      )
      if (next.readyAtMs !== null) {
        const now = yield* Clock.currentTimeMillis
        waitMs = Math.min(waitMs, Math.max(1, next.readyAtMs - now))
      }
    }
    yield* state.claimWakeup.wait(version, waitMs)
    return true
  })
  return Loop.run("claim", step, args.pollIntervalMs)
}
