/**
 * The engine's safety invariants (DESIGN.md §3), checked at every storage commit, and its
 * liveness bound, checked once faults stop. The checker observes the storage *backend*: it sees
 * the rows each transaction writes, keeps a mirror of every row, and compares each write with the
 * row it replaces. Run starts are reported by the instrumented task registry.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import type { ExecutionRow } from "../ExecutionRow.js"
import type { Event } from "../Planner.js"
import * as RetryOptions from "../RetryOptions.js"
import type * as StorageDriver from "../StorageDriver.js"
import type { RunInfo } from "../TaskDefinition.js"
import { isFinished } from "../TaskStatus.js"
import type { ApplyResult, Command, TaskStorage } from "../TaskStorage.js"
import type { Coverage } from "./Coverage.js"
import type { Timeline } from "./SimulatedTime.js"
import type { Trace } from "./Trace.js"

/** Who makes a storage call and what it is, so a commit can be judged. @since 0.1.0 @category models */
export interface CallInfo {
  readonly origin: string
  readonly op: "insert" | "claim" | "apply" | "expire"
  readonly commands?: ReadonlyArray<Command>
  readonly nowMs?: number
}

/** The call being made by the current fiber. @since 0.1.0 @category fiber refs */
export const currentCall: FiberRef.FiberRef<CallInfo | undefined> = FiberRef.unsafeMake<CallInfo | undefined>(undefined)

/** One run of a task function in progress. @since 0.1.0 @category models */
export interface ActiveRun {
  readonly processId: string
  readonly executionId: string
  readonly attempt: number
  /** The lease this run was started under (the last one its process was granted for the execution). */
  readonly leaseId: string | undefined
}

/** Settings of the liveness bound. @since 0.1.0 @category models */
export interface LivenessBound {
  /** True time when faults stopped. */
  readonly fromMs: number
  /** Largest forward clock offset any process had: leases and start times it wrote lie that much later. */
  readonly offsetAllowanceMs: number
  /** Largest poll interval and lease leeway of any process. */
  readonly pollIntervalMs: number
  readonly leaseLeewayMs: number
  /** Work already in flight when faults stopped: slow calls and finish retries. */
  readonly slackMs: number
}

const leaseOf = (event: Event): string | undefined =>
  event._tag === "RunSucceeded" || event._tag === "RunFailed" || event._tag === "Release" ? event.leaseId : undefined

const sameRow = (a: ExecutionRow, b: ExecutionRow): boolean => a === b || JSON.stringify(a) === JSON.stringify(b)

const parses = (text: string | null): boolean => {
  if (text === null) return true
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

/**
 * The time an execution may spend ready or running once faults stopped, from DESIGN.md §3:
 * `(maxAttempts + 1) × (timeout + leeway + max backoff) + poll interval`.
 *
 * @since 0.1.0
 * @category utils
 */
export const ownPhaseBoundMs = (row: ExecutionRow, bound: Pick<LivenessBound, "pollIntervalMs" | "leaseLeewayMs">): number => {
  const maxBackoff = row.retry.maxAttempts > 0 ? RetryOptions.delayMs(row.retry, row.retry.maxAttempts - 1) : 0
  return (row.retry.maxAttempts + 1) * (row.timeoutMs + bound.leaseLeewayMs + maxBackoff) + bound.pollIntervalMs
}

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
  /** Run starts per execution. */
  readonly runStarts = new Map<string, number>()
  /** True time at which each execution finished. */
  readonly finishedAtMs = new Map<string, number>()
  readonly activeRuns = new Set<ActiveRun>()
  /** Inserts and status changes so far: the liveness phase watches it for a stall. */
  progress = 0
  private readonly insertedAtMs = new Map<string, number>()
  private readonly releases = new Map<string, number>()
  private readonly grantedLeases = new Set<string>()
  /** `${executorId}|${executionId}` → the lease last granted to that executor for that execution. */
  private readonly lastLease = new Map<string, string>()
  private readonly lateReported = new Set<string>()
  private liveness: LivenessBound | undefined

  constructor(
    private readonly timeline: Timeline,
    private readonly coverage: Coverage,
    private readonly trace: Trace
  ) {}

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

    // A runner's write whose lease is not current must change nothing (the fence).
    if (op === "apply" && call?.commands !== undefined) {
      const results = (result as ApplyResult).results
      call.commands.forEach((command, i) => {
        const leaseId = leaseOf(command.event)
        const outcome = results[i]?._tag ?? "?"
        parts.push(`${command.event._tag}:${command.executionId}=${outcome}`)
        if (leaseId === undefined) return
        const pre = this.rows.get(command.executionId)
        const held = pre !== undefined && pre.status === "running" && pre.leaseId === leaseId
        if (!held) {
          if (outcome === "Applied") {
            this.violation(
              `stale runner changed a row: ${command.event._tag} of ${command.executionId} under lease ${leaseId} was applied, ` +
                `but the row was ${pre === undefined ? "missing" : `${pre.status} with lease ${String(pre.leaseId)}`}`
            )
          } else this.coverage.hit("fence:stale write rejected")
        } else if (command.event._tag === "Release" && outcome === "Applied") {
          this.releases.set(command.executionId, (this.releases.get(command.executionId) ?? 0) + 1)
        }
      })
    }

    // A claim takes a due ready row, with a lease never granted before: leases never overlap.
    if (op === "claim") {
      for (const row of result as ReadonlyArray<ExecutionRow>) {
        const pre = this.rows.get(row.executionId)
        parts.push(`claim:${row.executionId}:${String(row.leaseId)}`)
        if (pre === undefined || pre.status !== "ready") {
          this.violation(`claim of ${row.executionId} while it was ${pre?.status ?? "missing"}: two leases would overlap`)
        } else if (call?.nowMs !== undefined && pre.startAt > call.nowMs) {
          this.violation(`claim of ${row.executionId} at ${call.nowMs}, before its startAt ${pre.startAt}`)
        }
        if (row.leaseId === null || this.grantedLeases.has(row.leaseId)) {
          this.violation(`claim of ${row.executionId} granted lease ${String(row.leaseId)}, which is not fresh`)
        }
        if (row.leaseId !== null) {
          this.grantedLeases.add(row.leaseId)
          this.lastLease.set(`${String(row.executorId)}|${row.executionId}`, row.leaseId)
        }
        const parent = row.parentExecutionId === null ? undefined : this.rows.get(row.parentExecutionId)
        if (parent !== undefined && isFinished(parent.status)) {
          this.violation(`claim of ${row.executionId} under parent ${parent.executionId}, which finished as ${parent.status}`)
        }
      }
    }

    // Row by row: finished rows absorb; count the transitions.
    for (const row of writes.inserted) {
      if (this.rows.has(row.executionId)) this.violation(`insert of ${row.executionId}, which already exists`)
      // A child can be inserted and cancelled in one transaction (a sibling failed in the same batch).
      if (row.status !== "ready" && row.status !== "cancelled") {
        this.violation(`insert of ${row.executionId} as ${row.status}, neither ready nor cancelled`)
      }
      this.coverage.hit(row.parentExecutionId === null ? "insert:root" : row.isFinalize ? "insert:finalize" : "insert:child")
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
        if (!sameRow(pre, row)) {
          this.violation(`finished execution ${row.executionId} (${pre.status}) was changed to ${row.status}`)
        }
        continue
      }
      if (pre.status !== row.status) {
        this.progress++
        this.coverage.hit(this.label(pre, row, call))
        parts.push(`${row.executionId}:${pre.status}>${row.status}`)
      }
    }

    // Apply to the mirror, then check the state after the commit.
    for (const row of writes.inserted) this.put(row, now)
    for (const row of writes.updated) this.put(row, now)
    for (const row of writes.inserted) this.checkRow(row)
    for (const row of writes.updated) this.checkRow(row)
    this.trace.record(parts.join(" "))
  }

  private label(pre: ExecutionRow, row: ExecutionRow, call: CallInfo | undefined): string {
    const base = `${pre.status}→${row.status}`
    if (pre.status !== "running") return base
    if (row.status === "ready") {
      if (call?.op === "expire") return `${base} (lease expired)`
      const released = call?.commands?.some((c) => c.executionId === row.executionId && c.event._tag === "Release") ?? false
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

  /** The state invariants of one row after a commit, with its parent and children. */
  private checkRow(row: ExecutionRow): void {
    const id = row.executionId
    const bad = (what: string) => this.violation(`execution ${id} (${row.taskId}, ${row.status}): ${what}`)
    const running = row.status === "running"
    if (running !== (row.leaseId !== null) || running !== (row.expiresAt !== null) || (running && row.executorId === null)) {
      bad(`lease fields do not match the status (lease ${String(row.leaseId)}, expires ${String(row.expiresAt)})`)
    }
    const finished = isFinished(row.status)
    if (row.isClosed !== finished) bad(`isClosed is ${String(row.isClosed)}`)
    if (row.retryAttempts < 0 || row.retryAttempts > row.retry.maxAttempts) {
      bad(`retryAttempts ${row.retryAttempts} outside 0..maxAttempts ${row.retry.maxAttempts}`)
    }
    if (row.status === "completed" ? row.error !== null : finished && row.error === null) bad("error does not match the status")
    if (row.status !== "completed" && row.output !== null) bad("an output is recorded without completion")
    if (!parses(row.input) || !parses(row.output) || !parses(row.runOutput)) bad("a stored value is not valid JSON")

    // Nothing active under a finished parent (a cancel or failure finishes the whole subtree).
    if (row.parentExecutionId !== null) {
      const parent = this.rows.get(row.parentExecutionId)
      if (parent === undefined) bad(`its parent ${row.parentExecutionId} does not exist`)
      else if (!finished && isFinished(parent.status)) bad(`still active under parent ${parent.executionId}, which is ${parent.status}`)
    }
    const children = row.children.map((c) => this.rows.get(c.executionId))
    const finalize = row.finalizeExecutionId === null ? undefined : this.rows.get(row.finalizeExecutionId)
    if (finished) {
      children.forEach((child, i) => {
        if (child !== undefined && !isFinished(child.status)) bad(`its child ${row.children[i]!.executionId} is still ${child.status}`)
      })
      if (finalize !== undefined && !isFinished(finalize.status)) bad(`its finalize task is still ${finalize.status}`)
    }
    if (row.status === "waiting_for_children_tasks" || row.status === "completed") {
      children.forEach((child, i) => {
        if (child === undefined) bad(`its child ${row.children[i]!.executionId} does not exist`)
      })
      const completed = children.filter((c) => c?.status === "completed").length
      if (row.completedChildren !== completed) bad(`completedChildren is ${row.completedChildren}, but ${completed} children completed`)
    }
    if (row.status === "waiting_for_children_tasks" && row.completedChildren >= row.children.length) {
      bad("still waits for its children, though all of them completed")
    }
    if (row.status === "completed") {
      if (children.some((c) => c?.status !== "completed")) bad("completed before all its children completed")
      if (row.finalize !== null && finalize?.status !== "completed") bad("completed before its finalize task completed")
    }
    if (row.status === "waiting_for_finalize_task") {
      if (finalize === undefined || isFinished(finalize.status)) bad(`its finalize task is ${finalize?.status ?? "missing"}`)
      if (children.some((c) => c?.status !== "completed")) bad("waits for its finalize task before all its children completed")
    }
  }

  /** A task function starts running on `processId`. */
  runStarted(processId: string, info: RunInfo): ActiveRun {
    const id = info.executionId
    const n = (this.runStarts.get(id) ?? 0) + 1
    this.runStarts.set(id, n)
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
    }
    const run: ActiveRun = { processId, executionId: id, attempt: info.attempt, leaseId: this.lastLease.get(`${processId}|${id}`) }
    this.activeRuns.add(run)
    this.trace.record(`${this.timeline.nowMs} ${processId} run-start ${id} attempt=${info.attempt} n=${n}`)
    return run
  }

  runEnded(run: ActiveRun, how: string): void {
    this.activeRuns.delete(run)
    this.trace.record(`${this.timeline.nowMs} ${run.processId} run-end ${run.executionId} ${how}`)
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

  /** Starts the liveness phase: from now on every execution must finish within its bound. */
  startLiveness(bound: LivenessBound): void {
    this.liveness = bound
  }

  /**
   * Checks that no execution outstays its bound: an execution ready or running must leave those
   * statuses within {@link ownPhaseBoundMs} of when faults stopped (or of its insert, if later).
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
      const start = Math.max(bound.fromMs + bound.offsetAllowanceMs, this.insertedAtMs.get(id) ?? 0)
      const deadline = start + ownPhaseBoundMs(row, bound) + bound.slackMs
      if (nowMs > deadline) {
        this.lateReported.add(id)
        this.violation(
          `liveness: execution ${id} (${row.taskId}) is still ${row.status} at ${nowMs}, past its bound ${deadline} ` +
            `(retryAttempts ${row.retryAttempts}/${row.retry.maxAttempts}, timeout ${row.timeoutMs})`
        )
      }
    }
  }

  /** Compares the mirror with the storage's own rows. */
  compareWith(rows: ReadonlyArray<ExecutionRow>): void {
    if (rows.length !== this.rows.size) this.violation(`storage holds ${rows.length} rows, the checker saw ${this.rows.size}`)
    for (const row of rows) {
      const mine = this.rows.get(row.executionId)
      if (mine === undefined || !sameRow(mine, row)) this.violation(`row ${row.executionId} in storage differs from the writes seen`)
    }
  }
}

/**
 * Wraps a backend so that every committed transaction is judged by `checker`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const observe = (backend: StorageDriver.Backend, checker: Checker): StorageDriver.Backend => ({
  transaction: (f) =>
    Effect.flatMap(FiberRef.get(currentCall), (call) =>
      backend.transaction((tx) => {
        const updated: Array<ExecutionRow> = []
        const inserted: Array<ExecutionRow> = []
        const observed: StorageDriver.Transaction = {
          get: tx.get,
          getMany: tx.getMany,
          dueReady: tx.dueReady,
          expiredRunning: tx.expiredRunning,
          write: (w) =>
            Effect.tap(tx.write(w), () => {
              updated.push(...w.updated)
              inserted.push(...w.inserted)
            })
        }
        return Effect.tap(f(observed), (result) => Effect.sync(() => checker.commit(call, { updated, inserted }, result)))
      })),
  get: backend.get,
  getMany: backend.getMany,
  list: backend.list,
  nextWake: backend.nextWake
})

/**
 * Tags each writing call of `storage` with who makes it (for the checker and the trace).
 *
 * @since 0.1.0
 * @category constructors
 */
export const withOrigin = (storage: TaskStorage["Type"], origin: string): TaskStorage["Type"] => ({
  ...storage,
  insert: (rows) => Effect.locally(storage.insert(rows), currentCall, { origin, op: "insert" }),
  claim: (request) => Effect.locally(storage.claim(request), currentCall, { origin, op: "claim", nowMs: request.nowMs }),
  apply: (commands) => Effect.locally(storage.apply(commands), currentCall, { origin, op: "apply", commands }),
  expire: (args) => Effect.locally(storage.expire(args), currentCall, { origin, op: "expire", nowMs: args.nowMs })
})
