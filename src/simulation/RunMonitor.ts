/**
 * Runs of task functions, as the instrumented registry reports them, checked against storage:
 * run starts stay within `maxAttempts + 1` (plus released leases) and each starts the attempt the
 * row holds; a runner whose lease is taken (a cancel, an expiry) stops within a bound of simulated
 * time (at once when its process got the cancel wake-up, else within its lease-watch polls); and a
 * run that ended has its finish written, not dropped: at once, but for the process's slow or failed
 * storage calls, unless the process died, paused or stopped.
 *
 * @since 0.1.0
 */
import type { ExecutionRow } from "../ExecutionRow.js"
import type { RunInfo } from "../TaskDefinition.js"
import type { Coverage } from "./Coverage.js"
import type { Timeline } from "./SimulatedTime.js"
import type { Trace } from "./Trace.js"

/** One run of a task function in progress. @since 0.1.0 @category models */
export interface ActiveRun {
  readonly processId: string
  readonly executionId: string
  readonly attempt: number
  /** The lease this run was started under (the last one its process was granted for the execution). */
  readonly leaseId: string | undefined
  /** When storage took its lease (cancel, expiry), and the process's disturbance count then. */
  lost?: { readonly atMs: number; readonly marks: number; readonly why: string }
  /** When its process got the cancel wake-up for it. */
  signalled?: { readonly atMs: number; readonly marks: number }
  reported?: boolean
}

/**
 * What the harness tells of a simulated process. `marks` counts disturbances (faulted or slow
 * storage calls, pauses, clock jumps, shutdown, death); `busyUntilMs` is when its slow or failed
 * calls started so far are over (with their retries).
 *
 * @since 0.1.0
 * @category models
 */
export interface ProcessHealth {
  readonly marks: number
  /** Disturbances but storage faults: pauses, clock jumps, shutdown, death. */
  readonly hardMarks: number
  readonly busyUntilMs: number
  readonly paused: boolean
  /** Alive and not shutting down. */
  readonly active: boolean
  readonly pollIntervalMs: number
}

/** How long a runner may go on once its process got the cancel wake-up (interruption needs no I/O). */
export const SIGNALLED_STOP_MS = 10

/** How long a finish may take to be written once its run ended, beyond the process's slow calls. */
export const FINISH_WRITE_MS = 100

interface PendingFinish {
  readonly processId: string
  readonly executionId: string
  readonly endedAtMs: number
  readonly hardMarks: number
}

/** @since 0.1.0 @category models */
export class RunMonitor {
  /** Run starts per execution. */
  readonly runStarts = new Map<string, number>()
  /** Run starts before an execution's latest retry. */
  private readonly runsBefore = new Map<string, number>()
  readonly activeRuns = new Set<ActiveRun>()
  /** Set by the harness: the state of a process (undefined: no bound is checked for it). */
  health: (processId: string) => ProcessHealth | undefined = () => undefined
  /** Set by the harness: the longest slow storage call of the run's fault plan. */
  slowCallMaxMs = 0
  private readonly releases = new Map<string, number>()
  /** `${executorId}|${executionId}` → the lease last granted to that executor for that execution. */
  private readonly lastLease = new Map<string, string>()
  private readonly pending = new Map<string, PendingFinish>()

  constructor(
    private readonly timeline: Timeline,
    readonly coverage: Coverage,
    private readonly trace: Trace,
    private readonly rows: ReadonlyMap<string, ExecutionRow>,
    private readonly violation: (message: string) => void
  ) {}

  granted(executorId: string | null, executionId: string, leaseId: string): void {
    this.lastLease.set(`${String(executorId)}|${executionId}`, leaseId)
  }

  /** A retry re-opened the execution: its runs are counted afresh against `maxAttempts + 1`. */
  retried(executionId: string): void {
    this.runsBefore.set(executionId, this.runStarts.get(executionId) ?? 0)
    this.releases.delete(executionId)
  }

  released(executionId: string): void {
    this.releases.set(executionId, (this.releases.get(executionId) ?? 0) + 1)
  }

  /** A task function starts running on `processId`. */
  runStarted(processId: string, info: RunInfo): ActiveRun {
    const id = info.executionId
    const total = (this.runStarts.get(id) ?? 0) + 1
    this.runStarts.set(id, total)
    const n = total - (this.runsBefore.get(id) ?? 0)
    const row = this.rows.get(id)
    if (row === undefined) this.violation(`a run of ${id} started, but no such execution is stored`)
    else {
      const releases = this.releases.get(id) ?? 0
      if (n > row.retry.maxAttempts + 1 + releases) {
        this.violation(
          `execution ${id} (${row.taskId}) started run ${n}, over maxAttempts + 1 = ${row.retry.maxAttempts + 1}` +
            (releases > 0 ? ` plus ${releases} released leases` : "")
        )
      }
      if (row.status === "running" && info.attempt !== row.retryAttempts) {
        this.violation(
          `execution ${id} (${row.taskId}) ran as attempt ${info.attempt}, but storage holds attempt ` +
            `${row.retryAttempts}`
        )
      }
    }
    const leaseId = this.lastLease.get(`${processId}|${id}`)
    const run: ActiveRun = { processId, executionId: id, attempt: info.attempt, leaseId }
    this.activeRuns.add(run)
    this.trace.record(`${this.timeline.nowMs} ${processId} run-start ${id} attempt=${info.attempt} n=${n}`)
    return run
  }

  runEnded(run: ActiveRun, how: "succeeded" | "failed" | "interrupted"): void {
    this.activeRuns.delete(run)
    this.trace.record(`${this.timeline.nowMs} ${run.processId} run-end ${run.executionId} ${how}`)
    const now = this.timeline.nowMs
    if (run.lost !== undefined) {
      this.coverage.hit("run:stopped after its lease was taken")
      this.checkStop(run, now)
    } else if (how !== "interrupted" && run.leaseId !== undefined) {
      const health = this.health(run.processId)
      if (health !== undefined) {
        const { executionId, processId } = run
        this.pending.set(run.leaseId, { processId, executionId, endedAtMs: now, hardMarks: health.hardMarks })
      }
    }
  }

  /** A runner's write under `leaseId` reached storage (applied or fenced off). */
  finishWritten(leaseId: string): void {
    this.pending.delete(leaseId)
  }

  /** Storage took lease `leaseId` of `executionId` (`why`: the call that did), by a write other than its runner's. */
  leaseTaken(executionId: string, leaseId: string, why: string): void {
    const now = this.timeline.nowMs
    for (const run of this.activeRuns) {
      if (run.leaseId !== leaseId || run.lost !== undefined) continue
      run.lost = { atMs: now, marks: this.health(run.processId)?.marks ?? 0, why }
    }
  }

  /** `processId` got the cancel wake-up for `executionIds`. */
  cancelDelivered(processId: string, executionIds: ReadonlyArray<string>): void {
    const marks = this.health(processId)?.marks ?? 0
    for (const run of this.activeRuns) {
      if (run.processId !== processId || run.lost === undefined || run.signalled !== undefined) continue
      if (executionIds.includes(run.executionId)) run.signalled = { atMs: this.timeline.nowMs, marks }
    }
  }

  /** Reports runners that outstay their bound after their lease was taken, and finishes not written in time. */
  checkOverdue(nowMs: number): void {
    for (const run of this.activeRuns) if (run.lost !== undefined && run.reported !== true) this.checkStop(run, nowMs)
    for (const [leaseId, finish] of this.pending) {
      const health = this.health(finish.processId)
      if (health === undefined || !health.active || health.hardMarks !== finish.hardMarks) {
        this.pending.delete(leaseId)
        continue
      }
      if (health.paused || nowMs <= Math.max(finish.endedAtMs, health.busyUntilMs) + FINISH_WRITE_MS) continue
      this.pending.delete(leaseId)
      this.violation(
        `the finish of ${finish.executionId} (lease ${leaseId}) was never written: its run ended at ` +
          `${finish.endedAtMs} on ${finish.processId}, which is alive, and its storage calls were done by ` +
          `${health.busyUntilMs}`
      )
    }
  }

  /** True when a run of `processId` still runs although its lease is no longer the row's (or has lapsed). */
  hasStaleRun(processId: string, nowMs: number): boolean {
    for (const run of this.activeRuns) {
      if (run.processId !== processId) continue
      const row = this.rows.get(run.executionId)
      if (row === undefined || run.leaseId === undefined) continue
      if (row.leaseId !== run.leaseId || (row.expiresAt !== null && row.expiresAt <= nowMs)) return true
    }
    return false
  }

  /** True when `processId` has been alive, running and undisturbed since `sinceMs` (when it had `marks`). */
  private quiet(processId: string, sinceMs: number, marks: number): boolean {
    const health = this.health(processId)
    if (health === undefined || !health.active || health.paused) return false
    return health.marks === marks && health.busyUntilMs <= sinceMs
  }

  private checkStop(run: ActiveRun, nowMs: number): void {
    const lost = run.lost!
    const health = this.health(run.processId)
    if (health === undefined) return
    const signalled = run.signalled
    const lateAfterSignal = signalled !== undefined && nowMs > signalled.atMs + SIGNALLED_STOP_MS
    if (lateAfterSignal && this.quiet(run.processId, signalled.atMs, signalled.marks)) {
      run.reported = true
      this.violation(
        `the runner of ${run.executionId} on ${run.processId} went on after its cancel: its process got the ` +
          `wake-up at ${signalled.atMs} and the run was still going at ${nowMs} (${lost.why} took its lease at ` +
          `${lost.atMs})`
      )
      return
    }
    const boundMs = 2 * (health.pollIntervalMs + this.slowCallMaxMs) + 100
    if (nowMs > lost.atMs + boundMs && this.quiet(run.processId, lost.atMs, lost.marks)) {
      run.reported = true
      this.violation(
        `the runner of ${run.executionId} on ${run.processId} went on after ${lost.why} took its lease at ` +
          `${lost.atMs}: still going at ${nowMs}, past 2 × (poll interval + slowest call) + 100 = ${boundMs} ms`
      )
    }
  }
}
