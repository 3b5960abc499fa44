/**
 * Wake-ups: an enqueue wakes claim loops at once, a finish wakes its waiters at once, a cancel
 * reaches the runner. The in-memory layer serves one process; a Postgres layer provides the same
 * Tag across processes. Loops still poll at a fallback interval, so a lost wake-up only delays.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"

/** Callbacks a subscriber receives. @since 0.1.0 @category models */
export interface Listener {
  readonly ready?: () => void
  readonly cancelled?: (executionIds: ReadonlyArray<string>) => void
  /** Executions that finished (one listener serves every waiter of a client). */
  readonly finished?: (executionIds: ReadonlyArray<string>) => void
}

/** @since 0.1.0 @category tags */
export class Signals extends Context.Tag("durable-tasks/Signals")<Signals, {
  readonly notifyReady: Effect.Effect<void>
  readonly notifyFinished: (executionIds: ReadonlyArray<string>) => Effect.Effect<void>
  readonly notifyCancelled: (executionIds: ReadonlyArray<string>) => Effect.Effect<void>
  /** Calls `listener` for ready, cancel and finish signals while the scope is open. */
  readonly subscribe: (listener: Listener) => Effect.Effect<void, never, Scope.Scope>
}>() {}

/**
 * The in-process signal hub. `deliver*` are exposed so a cross-process layer can feed remote
 * notifications into local subscribers.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeHub = () => {
  const listeners = new Set<Listener>()
  const deliverReady = () => {
    for (const l of listeners) l.ready?.()
  }
  const deliverCancelled = (ids: ReadonlyArray<string>) => {
    if (ids.length === 0) return
    for (const l of listeners) l.cancelled?.(ids)
  }
  const deliverFinished = (ids: ReadonlyArray<string>) => {
    if (ids.length === 0) return
    for (const l of listeners) l.finished?.(ids)
  }
  const service: Signals["Type"] = {
    notifyReady: Effect.sync(deliverReady),
    notifyFinished: (ids) => Effect.sync(() => deliverFinished(ids)),
    notifyCancelled: (ids) => Effect.sync(() => deliverCancelled(ids)),
    subscribe: (listener) =>
      Effect.acquireRelease(
        Effect.sync(() => listeners.add(listener)),
        () => Effect.sync(() => listeners.delete(listener))
      ).pipe(
        Effect.asVoid
      )
  }
  return { service, deliverReady, deliverCancelled, deliverFinished }
}

/** In-process signals. @since 0.1.0 @category layers */
export const layerMemory: Layer.Layer<Signals> = Layer.sync(Signals, () => makeHub().service)
