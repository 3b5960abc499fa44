/**
 * Helpers for Effect API tests under TestClock: let the engine's fibers run (real event-loop
 * turns, no clock movement) and wait for a condition.
 */
import * as Effect from "effect/Effect"

/** One real event-loop turn: the engine's fibers progress, TestClock time does not move. */
export const tick: Effect.Effect<void> = Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 0)))

/** Several real event-loop turns, so that whatever can happen without time passing has happened. */
export const settle: Effect.Effect<void> = Effect.repeatN(tick, 30)

/** Re-checks `condition` between event-loop turns; dies naming `what` if it never holds. */
export const waitFor = <E, R>(what: string, condition: Effect.Effect<boolean, E, R>): Effect.Effect<void, E, R> =>
  Effect.gen(function*() {
    for (let i = 0; i < 2_000; i++) {
      if (yield* condition) return
      yield* tick
    }
    return yield* Effect.dieMessage(`condition never held: ${what}`)
  })
