/**
 * The engine's safety invariants (DESIGN.md §3), checked at every storage commit, and its
 * liveness bound, checked once faults stop. The checker observes the storage *backend*: it sees
 * the rows each transaction writes, keeps a mirror of every row, and compares each write with the
 * row it replaces. Run starts and ends are reported by the instrumented task registry
 * ({@link RunMonitor}).
 *
 * @since 0.1.0
 */
import type { ExecutionRow } from "../ExecutionRow.js"
import type { Event } from "../Planner.js"
import type { RetryOptions } from "../RetryOptions.js"
import type { RunInfo } from "../TaskDefinition.js"
import { isFinished } from "../TaskStatus.js"
import type { ApplyResult } from "../TaskStorage.js"
import { checkAttemptEnd, checkClaimed, checkInserted } from "./AttemptInvariants.js"
import type { Coverage } from "./Coverage.js"
import { deadlineMs, type LivenessBound } from "./Liveness.js"
import type { CallInfo } from "./Observe.js"
import { judgePurge } from "./PurgeInvariants.js"
import { checkRow } from "./RowInvariants.js"
import { type ActiveRun, RunMonitor } from "./RunMonitor.js"
import type { Timeline } from "./SimulatedTime.js"
import type { Trace } from "./Trace.js"
import { checkSleepEnd } from "./Wakeups.js"

export { type LivenessBound, ownPhaseBoundMs } from "./Liveness.js"
export { type CallInfo, currentCall, observe, withOrigin } from "./Observe.js"
export type { ActiveRun } from "./RunMonitor.js"

const leaseOf = (event: Event): string | undefined =>
  event._tag === "RunSucceeded" || event._tag === "RunFailed" || event._tag === "Release" ? event.leaseId : undefined

/** True for a call that retries executions (a finished row may change only then). */
const isRetry = (call: CallInfo | undefined): boolean =>
  call?.op === "apply" && call.commands?.some((c) => c.event._tag === "Retry") === true

const sameRow = (a: ExecutionRow, b: ExecutionRow): boolean => a === b || JSON.stringify(a) === JSON.stringify(b)

/**
 * Mirrors storage and checks every commit. Violations are collected, never thrown, so a run
 * always ends with a report.
 *
 * @since 0.1.0
 * @category models
 */
export class Checker {
  /** Every row, as of the last commit. */
  readonly rows = new Map<string, ExecutionRow>()
  readonly violations: Array<string> = []
  readonly unfinished = new Set<string>()
  /** Executions a purge deleted (a wait on one then finds it gone). */
  readonly purgedIds = new Set<string>()
  /** True time at which each execution finished. */
  readonly finishedAtMs = new Map<string, number>()
  /** How many times a retry re-opened each execution (a sleep woken again after one may end otherwise). */
  readonly retries = new Map<string, number>()
  /** Runs of task functions: starts, ends, and the bounds on runners. */
  readonly runs: RunMonitor
  /** Inserts and status changes so far: the liveness phase watches it for a stall. */
  progress = 0
  /** The retry options each task was defined with (by task id); rows of other tasks are judged by their own. */
  retryOf: (taskId: string) => RetryOptions | undefined = () => undefined
  private readonly insertedAtMs = new Map<string, number>()
  /** The execution holding each idempotency key (task id and key): one execution per key, ever. */
  private readonly keyHolders = new Map<string, string>()
  private readonly grantedLeases = new Set<string>()
  private readonly lateReported = new Set<string>()
  private liveness: LivenessBound | undefined

  constructor(
    private readonly timeline: Timeline,
    private readonly coverage: Coverage,
    private readonly trace: Trace
  ) {
    this.runs = new RunMonitor(timeline, coverage, trace, this.rows, (message) => this.violation(message))
  }

  /** Run starts per execution. */
  get runStarts(): ReadonlyMap<string, number> {
    return this.runs.runStarts
  }

  get activeRuns(): ReadonlySet<ActiveRun> {
    return this.runs.activeRuns
  }

  /** The true simulated time. */
  get nowMs(): number {
    return this.timeline.nowMs
  }

  violation(message: string): void {
    const line = `t=${this.timeline.nowMs} ${message}`
    this.violations.push(line)
    this.trace.record(`VIOLATION ${line}`)
  }

  /** Judges one committed transaction: `call` made it, `writes` are its rows, `result` its reply. */
  commit(
    call: CallInfo | undefined,
    writes: { readonly updated: ReadonlyArray<ExecutionRow>; readonly inserted: ReadonlyArray<ExecutionRow> },
    result: unknown
  ): void {
    const now = this.timeline.nowMs
    const op = call?.op
    const parts: Array<string> = [`${now} ${call?.origin ?? "?"} ${op ?? "?"}`]
    if (op === "apply" && call?.commands !== undefined) this.judgeFence(call, result as ApplyResult, parts)
    if (op === "claim") this.judgeClaims(call, result as ReadonlyArray<ExecutionRow>, parts)

    // Row by row: finished rows absorb; attempts and leases; count the transitions.
    for (const row of writes.inserted) {
      if (this.rows.has(row.executionId)) this.violation(`insert of ${row.executionId}, which already exists`)
      // A child can be inserted and cancelled in one transaction (a sibling failed in the same batch).
      if (row.status !== "ready" && row.status !== "cancelled" && !(row.status === "running" && row.sleepId !== null)) {
        this.violation(`insert of ${row.executionId} as ${row.status}, neither ready nor cancelled`)
      }
      checkInserted(row, this.retryOf(row.taskId), this.bad(row))
      if (row.idempotencyKey !== null) {
        const identity = `${row.taskId}\u0000${row.idempotencyKey}`
        const holder = this.keyHolders.get(identity)
        if (holder !== undefined) {
          this.violation(
            `insert of ${row.executionId}: idempotency key ${JSON.stringify(row.idempotencyKey)} of task ` +
              `${row.taskId} is already held by ${holder} (one execution per key)`
          )
        } else this.keyHolders.set(identity, row.executionId)
      }
      this.coverage.hit(
        row.parentExecutionId === null ? "insert:root" : row.isFinalize ? "insert:finalize" : "insert:child"
      )
      this.insertedAtMs.set(row.executionId, now)
      this.progress++
      parts.push(`+${row.executionId}`)
    }
    for (const row of writes.updated) {
      const pre = this.rows.get(row.executionId)
      if (pre === undefined) {
        this.violation(`update of ${row.executionId}, which does not exist`)
        continue
      }
      if (isFinished(pre.status)) {
        if (sameRow(pre, row)) continue
        if (isRetry(call) && pre.status !== "completed") this.retried(pre, row, now)
        else this.violation(`finished execution ${row.executionId} (${pre.status}) was changed to ${row.status}`)
        continue
      }
      const released = this.isRelease(row, call)
      const woken = call?.commands?.some((c) => c.event._tag === "Wakeup" && c.executionId === row.executionId)
      checkSleepEnd(pre, row, op === "apply" && woken === true, this.bad(row))
      checkAttemptEnd(pre, row, call, this.retryOf(row.taskId) ?? pre.retry, released, this.bad(row))
      const keepsLease = row.status === "running" && row.leaseId === pre.leaseId
      if (pre.status === "running" && pre.leaseId !== null && !keepsLease) {
        const own = op === "apply" && call?.commands?.some((c) => leaseOf(c.event) === pre.leaseId) === true
        const why = `${call?.origin ?? "?"}'s ${op ?? "?"} (${row.status})`
        if (!own) this.runs.leaseTaken(row.executionId, pre.leaseId, why)
      }
      if (pre.status !== row.status) {
        this.progress++
        this.coverage.hit(this.label(pre, row, call, released))
        parts.push(`${row.executionId}:${pre.status}>${row.status}`)
      }
    }

    // Apply to the mirror, then check the state after the commit.
    for (const row of writes.inserted) this.put(row, now)
    for (const row of writes.updated) this.put(row, now)
    for (const row of writes.inserted) checkRow(row, this.rows, this.bad(row))
    for (const row of writes.updated) checkRow(row, this.rows, this.bad(row))
    this.trace.record(parts.join(" "))
  }

  /**
   * A retry re-opened `pre` (finished without success) as `row`: with a fresh retry budget, its
   * attempt history kept, waiting again or ready; its runs are counted afresh from here.
   */
  private retried(pre: ExecutionRow, row: ExecutionRow, now: number): void {
    const bad = this.bad(row)
    if (row.retryAttempts !== 0) bad(`re-opened by a retry with retryAttempts ${row.retryAttempts}, not 0`)
    if ((row.attempts?.total ?? 0) !== (pre.attempts?.total ?? 0)) {
      bad(`re-opened by a retry, but its attempts went ${pre.attempts?.total ?? 0} → ${row.attempts?.total ?? 0}`)
    }
    if (isFinished(row.status) && row.status !== "completed") bad(`a retry left it ${row.status}`)
    this.coverage.hit("transition:retried")
    this.runs.retried(row.executionId)
    this.retries.set(row.executionId, (this.retries.get(row.executionId) ?? 0) + 1)
    this.insertedAtMs.set(row.executionId, now)
    this.finishedAtMs.delete(row.executionId) // finishes again later: a wait is judged by that finish
    this.progress++
  }

  private bad(row: ExecutionRow): (what: string) => void {
    return (what) => this.violation(`execution ${row.executionId} (${row.taskId}, ${row.status}): ${what}`)
  }

  /** A runner's write whose lease is not current must change nothing (the fence). */
  private judgeFence(call: CallInfo, result: ApplyResult, parts: Array<string>): void {
    call.commands!.forEach((command, i) => {
      const leaseId = leaseOf(command.event)
      const outcome = result.results[i]?._tag ?? "?"
      parts.push(`${command.event._tag}:${command.executionId}=${outcome}`)
      if (leaseId === undefined) return
      this.runs.finishWritten(leaseId)
      const pre = this.rows.get(command.executionId)
      const held = pre !== undefined && pre.status === "running" && pre.leaseId === leaseId
      if (!held) {
        if (outcome === "Applied") {
          this.violation(
            `stale runner changed a row: ${command.event._tag} of ${command.executionId} under lease ` +
              `${leaseId} was applied, ` +
              `but the row was ${pre === undefined ? "missing" : `${pre.status} with lease ${String(pre.leaseId)}`}`
          )
        } else this.coverage.hit("fence:stale write rejected")
      } else if (command.event._tag === "Release" && outcome === "Applied") this.runs.released(command.executionId)
    })
  }

  /** A claim takes a due ready row, with a lease never granted before (leases never overlap), for timeout + leeway. */
  private judgeClaims(call: CallInfo | undefined, claimed: ReadonlyArray<ExecutionRow>, parts: Array<string>): void {
    for (const row of claimed) {
      const pre = this.rows.get(row.executionId)
      parts.push(`claim:${row.executionId}:${String(row.leaseId)}`)
      if (pre === undefined || pre.status !== "ready") {
        this.violation(`claim of ${row.executionId} while it was ${pre?.status ?? "missing"}: two leases would overlap`)
      } else {
        if (call?.nowMs !== undefined && pre.startAt > call.nowMs) {
          this.violation(`claim of ${row.executionId} at ${call.nowMs}, before its startAt ${pre.startAt}`)
        }
        checkClaimed(pre, row, call, this.bad(row))
      }
      if (row.leaseId === null || this.grantedLeases.has(row.leaseId)) {
        this.violation(`claim of ${row.executionId} granted lease ${String(row.leaseId)}, which is not fresh`)
      }
      if (row.leaseId !== null) {
        this.grantedLeases.add(row.leaseId)
        this.runs.granted(row.executorId, row.executionId, row.leaseId)
      }
      const parent = row.parentExecutionId === null ? undefined : this.rows.get(row.parentExecutionId)
      if (parent !== undefined && isFinished(parent.status)) {
        this.violation(
          `claim of ${row.executionId} under parent ${parent.executionId}, which finished as ${parent.status}`
        )
      }
    }
  }

  private isRelease(row: ExecutionRow, call: CallInfo | undefined): boolean {
    return call?.commands?.some((c) => c.executionId === row.executionId && c.event._tag === "Release") ?? false
  }

  private label(pre: ExecutionRow, row: ExecutionRow, call: CallInfo | undefined, released: boolean): string {
    const base = `${pre.status}→${row.status}`
    if (pre.status !== "running") return base
    if (row.status === "ready") {
      if (call?.op === "expire") return `${base} (lease expired)`
      return `${base} (${released ? "released" : "retry"})`
    }
    if (row.status === "timed_out") return `${base} (${call?.op === "expire" ? "lease expired" : "run timed out"})`
    return base
  }

  private put(row: ExecutionRow, now: number): void {
    const pre = this.rows.get(row.executionId)
    this.rows.set(row.executionId, row)
    const finished = isFinished(row.status)
    if (finished) {
      this.unfinished.delete(row.executionId)
      if (pre === undefined || !isFinished(pre.status)) this.finishedAtMs.set(row.executionId, now)
    } else this.unfinished.add(row.executionId)
  }

  /** A task function starts running on `processId`. */
  runStarted(processId: string, info: RunInfo): ActiveRun {
    return this.runs.runStarted(processId, info)
  }

  runEnded(run: ActiveRun, how: "succeeded" | "failed" | "interrupted"): void {
    this.runs.runEnded(run, how)
  }

  /** True when a run of `processId` still runs although its lease is no longer the row's (or has lapsed). */
  hasStaleRun(processId: string, nowMs: number): boolean {
    return this.runs.hasStaleRun(processId, nowMs)
  }

  /** Starts the liveness phase: from now on every execution must finish within its bound. */
  startLiveness(bound: LivenessBound): void {
    this.liveness = bound
  }

  /**
   * Checks that no execution outstays its bound: an execution ready or running must leave those
   * statuses within `ownPhaseBoundMs` of when faults stopped (or of its insert, if later).
   * A parent then finishes in the same transaction as its last child or its finalize task, so the
   * bound of a tree is the sum of its levels' bounds.
   */
  checkLiveness(nowMs: number): void {
    const bound = this.liveness
    if (bound === undefined) return
    for (const id of this.unfinished) {
      const row = this.rows.get(id)!
      if (row.status !== "ready" && row.status !== "running") continue
      if (this.lateReported.has(id)) continue
      const deadline = deadlineMs(row, bound, this.insertedAtMs.get(id) ?? 0)
      if (nowMs > deadline) {
        this.lateReported.add(id)
        this.violation(
          `liveness: execution ${id} (${row.taskId}) is still ${row.status} at ${nowMs}, past its bound ${deadline} ` +
            `(retryAttempts ${row.retryAttempts}/${row.retry.maxAttempts}, timeout ${row.timeoutMs})`
        )
      }
    }
  }

  /** Rows a transaction wrote, read back inside it: storage must hold exactly what was written. */
  readBack(written: ReadonlyArray<ExecutionRow>, stored: ReadonlyArray<ExecutionRow>): void {
    const byId = new Map(stored.map((r) => [r.executionId, r] as const))
    for (const row of written) {
      const back = byId.get(row.executionId)
      if (back !== undefined && sameRow(row, back)) continue
      const fields = back === undefined
        ? ["the whole row"]
        : Object.keys(row).filter((k) =>
          JSON.stringify(row[k as keyof ExecutionRow]) !== JSON.stringify(back[k as keyof ExecutionRow])
        )
      this.violation(`execution ${row.executionId} was written, but storage holds other values of ${fields.join(", ")}`)
    }
  }

  /** Compares the mirror with the storage's own rows. */
  /** The ids of every row in the mirror. */
  known(): ReadonlyArray<string> {
    return [...this.rows.keys()]
  }

  /** After a purge: `stored` holds the ids of the mirror's rows still stored; the others were deleted. */
  purged(stored: ReadonlySet<string>): void {
    const { deleted, violations } = judgePurge(this.rows, stored)
    for (const message of violations) this.violation(message)
    if (deleted.length > 0) this.coverage.hit("transition:purged")
    for (const id of deleted) {
      this.rows.delete(id)
      this.unfinished.delete(id)
      this.purgedIds.add(id)
    }
  }

  compareWith(rows: ReadonlyArray<ExecutionRow>): void {
    if (rows.length !== this.rows.size) {
      this.violation(`storage holds ${rows.length} rows, the checker saw ${this.rows.size}`)
    }
    for (const row of rows) {
      const mine = this.rows.get(row.executionId)
      if (mine === undefined || !sameRow(mine, row)) {
        this.violation(`row ${row.executionId} in storage differs from the writes seen`)
      }
    }
  }
}
