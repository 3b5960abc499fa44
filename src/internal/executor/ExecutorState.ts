/**
 * The mutable state one executor's loops share: its running executions and its lifecycle flags.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import type * as Tracer from "effect/Tracer"
import { Wakeup } from "./Wakeup.js"

/**
 * One execution this executor runs, from its claim until its outcome is written (or dropped).
 *
 * @since 0.1.0
 */
export class RunningExecution {
  /** The runner's fiber, for runs of Effect tasks; set right after the fork. */
  fiber: Fiber.RuntimeFiber<void, never> | undefined = undefined
  /** Interrupts a plain run (a task run without a fiber: see {@link ../PlainRunner}). */
  abortPlain: (() => void) | undefined = undefined
  /** Set when the run outlived its timeout and was interrupted for it: a timed-out attempt is recorded. */
  timedOut = false
  /** Set once the run ended (or timed out): its deadline no longer matters. */
  settled = false
  /** The attempt's `durable-tasks.run` span, when tracing; ended once its outcome is known. */
  span: Tracer.AnySpan | undefined = undefined
  constructor(
    readonly executionId: string,
    readonly leaseId: string,
    /** When the run times out (Effect Clock milliseconds). */
    readonly deadlineMs: number
  ) {}

  /** Interrupts the run and returns once it ended (a plain run ends at once). */
  interrupt(): Effect.Effect<void> {
    const fiber = this.fiber
    if (fiber !== undefined) return Effect.asVoid(Fiber.interrupt(fiber))
    return Effect.sync(() => this.abortPlain?.())
  }

  /** Interrupts the run without waiting for it to end. */
  interruptFork(): Effect.Effect<void> {
    const fiber = this.fiber
    if (fiber !== undefined) return Fiber.interruptFork(fiber)
    return Effect.sync(() => this.abortPlain?.())
  }
}

/** @since 0.1.0 */
export class ExecutorState {
  readonly running = new Map<string, RunningExecution>()
  /** Wakes the claim loop: work became ready, or a slot became free. */
  readonly claimWakeup = new Wakeup()
  /** Notified whenever a runner ends (shutdown waits on it). */
  readonly idleWakeup = new Wakeup()
  readonly shutdownController = new AbortController()
  stopping = false
}
