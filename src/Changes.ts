/**
 * Turns what a storage transaction changed into wake-ups.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type { Signals } from "./Signals.js"
import type { Changes } from "./TaskStorage.js"

/** Sends the wake-ups that `changes` call for. @since 0.1.0 @category utils */
export const publish = (signals: Signals["Type"], changes: Changes): Effect.Effect<void> =>
  Effect.suspend(() => {
    const effects: Array<Effect.Effect<void>> = []
    if (changes.readyAtMs !== null) effects.push(signals.notifyReady)
    if (changes.finished.length > 0) effects.push(signals.notifyFinished(changes.finished))
    if (changes.cancelledRunning.length > 0) effects.push(signals.notifyCancelled(changes.cancelledRunning))
    return effects.length === 0 ? Effect.void : Effect.all(effects, { discard: true })
  })
