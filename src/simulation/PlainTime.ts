/**
 * Simulated time for plain tasks (tasks with a `runPlain` function, as the Promise facade builds
 * them): a `PromiseLike` that settles on the run's timeline, and `queueMicrotask` routed to the
 * timeline while a run lasts. Native promises settle in real microtasks, which a synchronous run
 * never reaches, so a plain task under simulation returns these instead.
 *
 * @since 0.1.0
 */
import type { Timeline } from "./SimulatedTime.js"

let current: Timeline | undefined

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function"

/**
 * A promise-like value that settles on the simulated timeline; its callbacks run as timeline
 * tasks, in order, so a run stays deterministic.
 *
 * @since 0.1.0
 * @category models
 */
export class SimulatedPromise<A> implements PromiseLike<A> {
  private state: "pending" | "resolved" | "rejected" = "pending"
  private value: unknown = undefined
  private callbacks: Array<() => void> = []

  constructor(private readonly timeline: Timeline) {}

  /** Resolves (or, with `ok = false`, rejects) once; a thenable value is followed. */
  settle(ok: boolean, value: unknown): void {
    if (this.state !== "pending") return
    if (ok && isThenable(value)) {
      value.then((v) => this.settle(true, v), (e: unknown) => this.settle(false, e))
      return
    }
    this.state = ok ? "resolved" : "rejected"
    this.value = value
    const callbacks = this.callbacks
    this.callbacks = []
    for (const callback of callbacks) this.timeline.enqueue(callback)
  }

  then<B = A, C = never>(
    onResolved?: ((value: A) => B | PromiseLike<B>) | null,
    onRejected?: ((reason: unknown) => C | PromiseLike<C>) | null
  ): PromiseLike<B | C> {
    const next = new SimulatedPromise<B | C>(this.timeline)
    const react = () => {
      const handler = this.state === "resolved" ? onResolved : onRejected
      if (handler === undefined || handler === null) return next.settle(this.state === "resolved", this.value)
      try {
        next.settle(true, (handler as (v: unknown) => unknown)(this.value))
      } catch (e) {
        next.settle(false, e)
      }
    }
    if (this.state === "pending") this.callbacks.push(react)
    else this.timeline.enqueue(react)
    return next
  }
}

const timelineNow = (): Timeline => {
  if (current === undefined) {
    throw new Error("PlainTime: no simulation is running (use it inside a task of a simulated run)")
  }
  return current
}

/**
 * Resolves after `ms` of simulated time (the plain-task counterpart of `Effect.sleep`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const sleep = (ms: number): PromiseLike<void> => {
  const timeline = timelineNow()
  const promise = new SimulatedPromise<void>(timeline)
  timeline.schedule(timeline.nowMs + Math.max(0, Math.ceil(ms)), () => promise.settle(true, undefined))
  return promise
}

/**
 * Runs `f` with `timeline` as the current one: {@link sleep} uses it, and `queueMicrotask` queues
 * on it (the engine's plain runner starts runs from a microtask).
 *
 * @since 0.1.0
 * @category running
 */
export const withTimeline = <A>(timeline: Timeline, f: () => A): A => {
  const previous = current
  const realQueueMicrotask = globalThis.queueMicrotask
  current = timeline
  globalThis.queueMicrotask = (callback) => timeline.enqueue(callback)
  try {
    return f()
  } finally {
    current = previous
    globalThis.queueMicrotask = realQueueMicrotask
  }
}
