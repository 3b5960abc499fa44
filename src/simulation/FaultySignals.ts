/**
 * A `Signals` decorator for one simulated process: wake-ups it sends or receives are lost or
 * delivered twice, from the run's seeded generator. Loops must still make progress by polling.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type { Listener, Signals } from "../Signals.js"
import type { FaultInjector } from "./Faults.js"

/** @since 0.1.0 @category constructors */
export const make = (
  inner: Signals["Type"],
  process: {
    readonly alive: boolean
    /** Told of each cancel wake-up the process got. */
    readonly cancelDelivered?: (executionIds: ReadonlyArray<string>) => void
  },
  faults: FaultInjector
): Signals["Type"] => {
  const send = (effect: Effect.Effect<void>): Effect.Effect<void> =>
    Effect.suspend(() => {
      switch (faults.signalFault()) {
        case "lost":
          return Effect.void
        case "duplicated":
          return Effect.zipRight(effect, effect)
        case "none":
          return effect
      }
    })
  const receive = (f: () => void): void => {
    if (!process.alive) return
    switch (faults.signalFault()) {
      case "lost":
        return
      case "duplicated":
        f()
        f()
        return
      case "none":
        f()
    }
  }
  return {
    notifyReady: send(inner.notifyReady),
    notifyFinished: (ids) => send(inner.notifyFinished(ids)),
    notifyCancelled: (ids) => send(inner.notifyCancelled(ids)),
    subscribe: (listener) => {
      const wrapped: {
        ready?: () => void
        cancelled?: (ids: ReadonlyArray<string>) => void
        finished?: (ids: ReadonlyArray<string>) => void
      } = {}
      const { cancelled, finished, ready } = listener
      if (ready !== undefined) wrapped.ready = () => receive(ready)
      if (cancelled !== undefined) {
        wrapped.cancelled = (ids) =>
          receive(() => {
            process.cancelDelivered?.(ids)
            cancelled(ids)
          })
      }
      if (finished !== undefined) wrapped.finished = (ids) => receive(() => finished(ids))
      return inner.subscribe(wrapped as Listener)
    }
  }
}
