/**
 * Waits in the workload: simulated clients wait on executions through the engine's wait path, and
 * each wait must resolve, with the finished execution, within its poll interval (and a little
 * slack) of the execution's finish, wake-ups lost or not.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type { Checker } from "./Invariants.js"

/** How late a wait may resolve beyond its poll interval (the poller's own steps take no time). */
export const WAIT_SLACK_MS = 100

interface Wait {
  readonly executionId: string
  readonly startedAtMs: number
  readonly pollMs: number
  resolved: boolean
  reported: boolean
}

/** @since 0.1.0 @category models */
export class WaitTracker {
  private readonly waits: Array<Wait> = []

  constructor(private readonly checker: Checker) {}

  /** A wait on `executionId` starts now. */
  started(executionId: string, pollMs: number, nowMs: number): Wait {
    const wait: Wait = { executionId, startedAtMs: nowMs, pollMs, resolved: false, reported: false }
    this.waits.push(wait)
    return wait
  }

  /** Runs `wait` (a client's wait on `executionId`, polling every `pollMs`), judging when and how it resolves. */
  follow<E>(
    executionId: string,
    pollMs: number,
    wait: Effect.Effect<{ readonly status: string }, E>
  ): Effect.Effect<void> {
    return Effect.suspend(() => {
      const record = this.started(executionId, pollMs, this.checker.nowMs)
      return wait.pipe(
        Effect.match({
          onSuccess: (execution) => this.resolved(record, execution.status, this.checker.nowMs),
          onFailure: (error) =>
            this.checker.purgedIds.has(executionId)
              ? this.resolved(record, "purged", this.checker.nowMs)
              : this.checker.violation(`wait on ${executionId} failed: ${String(error)}`)
        })
      )
    })
  }

  /** The wait returned the execution with `status`. */
  resolved(wait: Wait, status: string, nowMs: number): void {
    wait.resolved = true
    const finishedAt = this.checker.finishedAtMs.get(wait.executionId)
    if (finishedAt === undefined) {
      this.checker.violation(`a wait on ${wait.executionId} returned it as ${status}, but it has not finished`)
      return
    }
    const row = this.checker.rows.get(wait.executionId)
    if (row !== undefined && row.status !== status) {
      this.checker.violation(`a wait on ${wait.executionId} returned it as ${status}, but it finished as ${row.status}`)
    }
    if (!wait.reported) this.checkLate(wait, nowMs, true)
  }

  /** Waits still open, past their bound. */
  checkOverdue(nowMs: number): void {
    for (const wait of this.waits) if (!wait.resolved && !wait.reported) this.checkLate(wait, nowMs, false)
  }

  /** True while a wait is open whose execution finished (it has until its bound to resolve). */
  get pending(): boolean {
    return this.waits.some((w) => !w.resolved && !w.reported && this.checker.finishedAtMs.has(w.executionId))
  }

  private checkLate(wait: Wait, nowMs: number, resolved: boolean): void {
    const finishedAt = this.checker.finishedAtMs.get(wait.executionId)
    if (finishedAt === undefined) return
    const deadline = Math.max(finishedAt, wait.startedAtMs) + wait.pollMs + WAIT_SLACK_MS
    if (nowMs <= deadline) return
    wait.reported = true
    this.checker.violation(
      `liveness: a wait on ${wait.executionId} (from ${wait.startedAtMs}, polling every ${wait.pollMs} ms) ` +
        `${resolved ? `resolved only at ${nowMs}` : `is still open at ${nowMs}`}; the execution finished at ` +
        `${finishedAt}, so it was due by ${deadline}`
    )
  }
}
