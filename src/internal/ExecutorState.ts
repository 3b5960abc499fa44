/**
 * The mutable state one executor's loops share: its running executions and its lifecycle flags.
 *
 * @since 0.1.0
 */
import type * as Fiber from "effect/Fiber"
import { Wakeup } from "./Wakeup.js"

/** @since 0.1.0 */
export interface RunningExecution {
  readonly executionId: string
  readonly leaseId: string
  readonly fiber: Fiber.RuntimeFiber<void, never>
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
