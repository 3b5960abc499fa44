/**
 * Simulated time: one timeline of timers and one run queue, driven by the harness instead of
 * real timers. Every simulated process has its own {@link ProcessScheduler} (so it can be paused:
 * its fibers stop while the others go on) and its own {@link makeClock} (so its wall clock can
 * jump while sleeps, like Node timers, stay monotonic). Nothing here touches a real timer, so a
 * whole run is one synchronous, deterministic loop.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import type * as Scheduler from "effect/Scheduler"
import { Heap } from "../internal/executor/Heap.js"

/** A pending timer; set `cancelled` to drop it. @since 0.1.0 @category models */
export interface Timer {
  readonly atMs: number
  readonly fire: () => void
  cancelled: boolean
}

/** How a {@link Timeline.run} ended. @since 0.1.0 @category models */
export type RunEnd = "done" | "stalled" | "limit" | "steps"

/**
 * The simulated timeline: the true time, the pending timers and the queue of runnable fiber tasks.
 *
 * @since 0.1.0
 * @category models
 */
export class Timeline {
  /** The true simulated time in ms. Processes see it through their clocks, plus their offset. */
  nowMs = 0
  /** Fiber tasks run so far. */
  steps = 0
  private readonly timers = new Heap<Timer>()
  private seq = 0
  private queue: Array<Scheduler.Task | undefined> = []
  private head = 0

  /** Registers `fire` to run once the timeline reaches `atMs`. */
  schedule(atMs: number, fire: () => void): Timer {
    const timer: Timer = { atMs, fire, cancelled: false }
    this.timers.push({ key: atMs, seq: this.seq++, value: timer })
    return timer
  }

  /** Queues a runnable fiber task (called by the process schedulers). */
  enqueue(task: Scheduler.Task): void {
    this.queue.push(task)
  }

  /** Runs queued tasks, in order, until the queue is empty (or `maxSteps` tasks ran in all). */
  runQueued(maxSteps = Number.POSITIVE_INFINITY): void {
    while (this.head < this.queue.length) {
      if (this.steps >= maxSteps) {
        this.queue = this.queue.slice(this.head)
        this.head = 0
        return
      }
      const task = this.queue[this.head]!
      this.queue[this.head] = undefined
      this.head++
      this.steps++
      task()
    }
    this.queue = []
    this.head = 0
  }

  /** Fires the earliest timer not after `limitMs`, moving time forward to it; false when none. */
  fireNext(limitMs: number): boolean {
    for (;;) {
      const top = this.timers.peek()
      if (top === undefined || top.key > limitMs) return false
      this.timers.pop()
      if (top.value.cancelled) continue
      if (top.key > this.nowMs) this.nowMs = top.key
      top.value.fire()
      return true
    }
  }

  /**
   * Runs fiber tasks and fires timers until `done()` holds ("done"), nothing is left to run
   * ("stalled"), the next timer lies after `limitMs` ("limit"), or more than `maxSteps` fiber tasks
   * ran in all ("steps": a livelock that does not move time).
   */
  run(done: () => boolean, limitMs: number, maxSteps = Number.POSITIVE_INFINITY): RunEnd {
    for (;;) {
      this.runQueued(maxSteps)
      if (done()) return "done"
      if (this.steps >= maxSteps) return "steps"
      if (!this.fireNext(limitMs)) return this.timers.size === 0 ? "stalled" : "limit"
    }
  }
}

/**
 * The scheduler of one simulated process. Its fibers' tasks go to the shared timeline in order;
 * while the process is paused they are held back, so the process stops as a whole (a GC pause,
 * a stopped VM) and resumes where it was.
 *
 * @since 0.1.0
 * @category models
 */
export class ProcessScheduler implements Scheduler.Scheduler {
  private held: Array<Scheduler.Task> = []
  private pausedFlag = false

  constructor(private readonly timeline: Timeline) {}

  get paused(): boolean {
    return this.pausedFlag
  }

  scheduleTask(task: Scheduler.Task, _priority: number): void {
    if (this.pausedFlag) this.held.push(task)
    else this.timeline.enqueue(task)
  }

  shouldYield(fiber: Fiber.RuntimeFiber<unknown, unknown>): number | false {
    return fiber.currentOpCount > fiber.getFiberRef(FiberRef.currentMaxOpsBeforeYield)
      ? fiber.getFiberRef(FiberRef.currentSchedulingPriority)
      : false
  }

  pause(): void {
    this.pausedFlag = true
  }

  resume(): void {
    this.pausedFlag = false
    const held = this.held
    this.held = []
    for (const task of held) this.timeline.enqueue(task)
  }
}

/**
 * Waits forever, without the real interval timer that `Effect.never` keeps (which would hold the
 * Node process open after a run). Interruptible.
 *
 * @since 0.1.0
 * @category constructors
 */
export const parked: Effect.Effect<never> = Effect.async<never>(() => {})

/**
 * What a process clock reads: the timeline plus this offset (a wall clock that jumped). @since 0.1.0 @category models
 */
export interface ClockOffset {
  offsetMs: number
}

/**
 * A `Clock` on the timeline. `currentTimeMillis` is the true time plus `view.offsetMs`; `sleep`
 * registers a timer on the timeline (monotonic: clock jumps do not make sleeps end early).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeClock = (timeline: Timeline, view: ClockOffset): Clock.Clock => {
  const now = (): number => timeline.nowMs + view.offsetMs
  return {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: now,
    currentTimeMillis: Effect.sync(now),
    unsafeCurrentTimeNanos: () => BigInt(Math.round(now())) * 1_000_000n,
    currentTimeNanos: Effect.sync(() => BigInt(Math.round(now())) * 1_000_000n),
    sleep: (duration) => {
      const ms = Duration.toMillis(duration)
      if (!Number.isFinite(ms)) return parked
      return Effect.async<void>((resume) => {
        const timer = timeline.schedule(timeline.nowMs + Math.max(0, Math.ceil(ms)), () => resume(Effect.void))
        return Effect.sync(() => {
          timer.cancelled = true
        })
      })
    }
  }
}
