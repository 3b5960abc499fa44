/**
 * The expiry loop: running executions whose lease lapsed (their executor died or hung) go back to
 * ready, counting an attempt, or finish as timed out when no attempt is left.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type { RegistryService } from "../../Registry.js"
import type { TaskStorage } from "../../TaskStorage.js"
import type { ExecutorState } from "./ExecutorState.js"
import * as Loop from "./Loop.js"

const BATCH = 500

/** @since 0.1.0 @category loops */
export const run = (args: {
  readonly state: ExecutorState
  /** The executor's storage, which publishes the wake-ups of what it changed. */
  readonly storage: TaskStorage["Type"]
  readonly registry: RegistryService
  readonly pollIntervalMs: number
}): Effect.Effect<void> => {
  const step = Effect.gen(function*() {
    if (args.state.stopping) return false
    const nowMs = yield* Clock.currentTimeMillis
    const expired = yield* args.storage.expire({ nowMs, limit: BATCH }).pipe(
      Effect.map((result) => result.results.length),
      Effect.tap((count) =>
        count === 0 ? Effect.void : Effect.logDebug(`durable-tasks: ${count} lapsed lease(s) expired (an attempt each)`)
      ),
      Effect.catchAll((error) => Effect.as(Effect.logWarning("durable-tasks: lease expiry failed", error), 0))
    )
    if (expired === BATCH) return true
    let waitMs = args.pollIntervalMs
    const next = yield* args.storage.nextWake(args.registry.taskIds).pipe(
      Effect.catchAll(() => Effect.succeed({ readyAtMs: null, expiresAtMs: null }))
    )
    if (next.expiresAtMs !== null) waitMs = Math.min(waitMs, Math.max(1, next.expiresAtMs - nowMs + 1))
    yield* Effect.sleep(waitMs)
    return true
  })
  return Loop.run("lease expiry", step, args.pollIntervalMs)
}
