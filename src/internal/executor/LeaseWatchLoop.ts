/**
 * Interrupts runners whose execution is no longer theirs: cancelled (by a signal from this or
 * another process, or noticed by polling), or re-claimed elsewhere after their lease lapsed.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type { TaskStorage } from "../../TaskStorage.js"
import type { ExecutorState } from "./ExecutorState.js"
import * as Loop from "./Loop.js"

/** Interrupts the runners of these executions, if this executor runs them. @since 0.1.0 @category utils */
export const interrupt = (state: ExecutorState, executionIds: ReadonlyArray<string>): Effect.Effect<void> =>
  Effect.forEach(executionIds, (id) => {
    const running = state.running.get(id)
    return running === undefined ? Effect.void : running.interruptFork()
  }, { discard: true })

/** @since 0.1.0 @category loops */
export const run = (args: {
  readonly state: ExecutorState
  readonly storage: TaskStorage["Type"]
  readonly pollIntervalMs: number
}): Effect.Effect<void> => {
  const { state } = args
  const step = Effect.gen(function*() {
    if (state.stopping) return false
    yield* Effect.sleep(args.pollIntervalMs)
    if (state.running.size === 0) return true
    const held = Array.from(state.running.values())
    const rows = yield* args.storage.getMany(held.map((r) => r.executionId)).pipe(
      Effect.catchAll(() => Effect.succeed(undefined))
    )
    if (rows === undefined) return true
    const byId = new Map(rows.map((r) => [r.executionId, r] as const))
    const lost = held.filter((r) => {
      const row = byId.get(r.executionId)
      return row === undefined || row.status !== "running" || row.leaseId !== r.leaseId
    })
    // A finish already queued by the runner changes the row too: interrupt only runners still registered.
    yield* interrupt(state, lost.filter((r) => state.running.get(r.executionId) === r).map((r) => r.executionId))
    return true
  })
  return Loop.run("lease watch", step, args.pollIntervalMs)
}
