/**
 * The mutable state one executor's loops share: its running executions and its lifecycle flags.
 *
 * @since 0.1.0
 */
import type * as Fiber from "effect/Fiber"
import { Wakeup } from "./Wakeup.js"

/**
 * One execution this executor runs, from its claim until its outcome is written (or dropped).
 *
 * @since 0.1.0
 */
export class RunningExecution {
  /** The runner's fiber; set right after the fork. */
  fiber!: Fiber.RuntimeFiber<void, never>
  /** Set when the run outlived its timeout and was interrupted for it: the runner records a timed-out attempt. */
  timedOut = false
  /** Set once the run ended (or timed out): its deadline no longer matters. */
  settled = false
  constructor(
    readonly executionId: string,
    readonly leaseId: string,
    /** When the run times out (Effect Clock milliseconds). */
    readonly deadlineMs: number
  ) {}
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
