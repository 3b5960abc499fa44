/**
 * The conformance kit's reference: a deliberately naive model of the storage port, written from the
 * port's contract and DESIGN.md's rules rather than from any backend. Rows live in one `Map`; every
 * query is a linear scan; a transaction works on a copy of the map and replaces it at the end; what
 * changed is found by comparing the map before and after. The state machine itself is the pure
 * {@link Planner} (DESIGN.md: every storage applies its plans, none re-implements the rules); what a
 * storage adds (which rows a claim or an expiry takes, follow-up events applied in the same
 * transaction, children rows handed to the last child's event, duplicate checks, change reports) is
 * done here independently.
 *
 * Synchronous and cheap to copy, so the kit can replay concurrent calls in every serial order.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { DuplicateExecution } from "../EngineError.js"
import type { ExecutionRow } from "../ExecutionRow.js"
import * as Planner from "../Planner.js"
import { isFinished } from "../TaskStatus.js"
import type {
  ApplyResult,
  Changes,
  ClaimRequest,
  Command,
  CommandResult,
  ExecutionQuery,
  InsertResult,
  ListQuery,
  PurgeRequest,
  PurgeResult
} from "../TaskStorage.js"
import { TaskStorage } from "../TaskStorage.js"

const noChanges: Changes = { finished: [], cancelledRunning: [], readyAtMs: null }

/** Ready rows of these task ids due at `nowMs`, oldest `startAt` first (ties in insertion order). */
export const dueRows = (
  rows: ReadonlyMap<string, ExecutionRow>,
  nowMs: number,
  taskIds: ReadonlySet<string>
): Array<ExecutionRow> =>
  [...rows.values()]
    .filter((r) => r.status === "ready" && taskIds.has(r.taskId) && r.startAt <= nowMs)
    .sort((a, b) => a.startAt - b.startAt)

/** Running rows whose lease lapsed at or before `nowMs`, earliest expiry first. */
export const expiredRows = (rows: ReadonlyMap<string, ExecutionRow>, nowMs: number): Array<ExecutionRow> =>
  [...rows.values()]
    .filter((r) => r.status === "running" && r.expiresAt !== null && r.expiresAt <= nowMs)
    .sort((a, b) => a.expiresAt! - b.expiresAt!)

/** What changed between two versions of the rows (only rows whose status changed matter). */
const changesBetween = (
  before: ReadonlyMap<string, ExecutionRow>,
  after: ReadonlyMap<string, ExecutionRow>
): Changes => {
  const finished: Array<string> = []
  const cancelledRunning: Array<string> = []
  let readyAtMs: number | null = null
  for (const [id, row] of after) {
    const old = before.get(id)
    if (isFinished(row.status) && (old === undefined || !isFinished(old.status))) finished.push(id)
    if (row.status === "cancelled" && old?.status === "running") cancelledRunning.push(id)
    if (row.status === "ready" && old?.status !== "ready") {
      readyAtMs = readyAtMs === null ? row.startAt : Math.min(readyAtMs, row.startAt)
    }
  }
  return { finished, cancelledRunning, readyAtMs }
}

/**
 * The naive reference model of a storage.
 *
 * @since 0.1.0
 * @category models
 */
export class ReferenceModel {
  private rows: Map<string, ExecutionRow>

  constructor(rows: ReadonlyMap<string, ExecutionRow> = new Map()) {
    this.rows = new Map(rows)
  }

  /** An independent copy (same rows, same order). */
  copy(): ReferenceModel {
    return new ReferenceModel(this.rows)
  }

  /** Every row, in insertion order. */
  all(): ReadonlyArray<ExecutionRow> {
    return [...this.rows.values()]
  }

  /**
   * Inserts new roots; the whole batch fails on an id already stored. A row whose task id and
   * idempotency key a stored row (or an earlier row of the batch) has is not stored: its execution
   * id is that row's.
   */
  insert(rows: ReadonlyArray<ExecutionRow>): { readonly ok: InsertResult } | { readonly duplicate: string } {
    const known = rows.find((r) => this.rows.has(r.executionId))
    if (known !== undefined) return { duplicate: known.executionId }
    if (rows.length === 0) return { ok: { ...noChanges, executionIds: [] } }
    const stored: Array<ExecutionRow> = []
    const executionIds = rows.map((row) => {
      const holder = row.idempotencyKey === null
        ? undefined
        : [...this.rows.values()].find((r) => r.taskId === row.taskId && r.idempotencyKey === row.idempotencyKey)
      if (holder !== undefined) return holder.executionId
      this.rows.set(row.executionId, row)
      stored.push(row)
      return row.executionId
    })
    const readyAtMs = stored.length === 0 ? null : Math.min(...stored.map((r) => r.startAt))
    return { ok: { finished: [], cancelledRunning: [], readyAtMs, executionIds } }
  }

  /**
   * Claims the due rows that `choose` picks from the oldest-first list (default: the first
   * `limit`), each with the lease `${claimId}:${executionId}`.
   */
  claim(
    request: ClaimRequest,
    choose: (due: ReadonlyArray<ExecutionRow>) => ReadonlyArray<ExecutionRow> = (due) => due.slice(0, request.limit)
  ): ReadonlyArray<ExecutionRow> {
    if (request.limit <= 0 || request.taskIds.size === 0) return []
    const claimed: Array<ExecutionRow> = []
    for (const row of choose(dueRows(this.rows, request.nowMs, request.taskIds))) {
      const outcome = Planner.transition(row, {
        _tag: "Claim",
        nowMs: request.nowMs,
        leaseId: `${request.claimId}:${row.executionId}`,
        executorId: request.executorId,
        leaseLeewayMs: request.leaseLeewayMs
      })
      if (outcome._tag === "Step" && outcome.row !== undefined) claimed.push(outcome.row)
    }
    for (const row of claimed) this.rows.set(row.executionId, row)
    return claimed
  }

  /** Applies the commands in order, each with its follow-ups (queued after them), in one transaction. */
  apply(commands: ReadonlyArray<Command>): ApplyResult {
    const before = this.rows
    const work = new Map(before)
    const results: Array<CommandResult> = []
    const queue = commands.map((command) => ({ command, top: true }))
    for (let i = 0; i < queue.length; i++) {
      const { command, top } = queue[i]!
      const row = work.get(command.executionId)
      if (row === undefined) {
        if (top) results.push({ _tag: "NotFound" })
        continue
      }
      let event = command.event
      if ((event._tag === "ChildSucceeded" || event._tag === "Retry") && Planner.needsChildren(row, event)) {
        const childrenRows = row.children.flatMap((c) => {
          const child = work.get(c.executionId)
          return child === undefined ? [] : [child]
        })
        event = { ...event, childrenRows }
      }
      const outcome = Planner.transition(row, event)
      if (outcome._tag === "Rejected") {
        if (top) results.push(outcome)
        continue
      }
      if (top) results.push({ _tag: "Applied" })
      if (outcome.row !== undefined) work.set(outcome.row.executionId, outcome.row)
      for (const inserted of outcome.inserts) work.set(inserted.executionId, inserted)
      for (const followUp of outcome.followUps) queue.push({ command: followUp, top: false })
    }
    this.rows = work
    return { results, changes: changesBetween(before, work) }
  }

  /** Expires the lapsed leases that `choose` picks from the earliest-first list (default: the first `limit`). */
  expire(
    args: { readonly nowMs: number; readonly limit: number },
    choose: (expired: ReadonlyArray<ExecutionRow>) => ReadonlyArray<ExecutionRow> = (expired) =>
      expired.slice(0, args.limit)
  ): ApplyResult {
    const rows = choose(expiredRows(this.rows, args.nowMs))
    if (rows.length === 0) return { results: [], changes: noChanges }
    const nowMs = args.nowMs
    return this.apply(rows.map((r) => ({ executionId: r.executionId, event: { _tag: "LeaseExpired", nowMs } })))
  }

  get(executionId: string): ExecutionRow | undefined {
    return this.rows.get(executionId)
  }

  /** Every stored row matching the query, ignoring its limit. */
  matching(query: Omit<ListQuery, "limit">): ReadonlyArray<ExecutionRow> {
    return [...this.rows.values()].filter((r) =>
      (query.status === undefined || r.status === query.status) &&
      (query.taskId === undefined || r.taskId === query.taskId) &&
      (query.rootExecutionId === undefined || r.rootExecutionId === query.rootExecutionId)
    )
  }

  /** Every match, sorted newest first (then by execution id, descending), cut at the limit. */
  listPage(query: ExecutionQuery): ReadonlyArray<ExecutionRow> {
    const key = (r: ExecutionRow) => [r.createdAt, r.executionId] as const
    const before = (a: readonly [number, string], b: readonly [number, string]) =>
      a[0] < b[0] || (a[0] === b[0] && a[1] < b[1])
    const bounded = (v: number | null, after: number | undefined, beforeMs: number | undefined) =>
      (after === undefined || (v !== null && v > after)) && (beforeMs === undefined || (v !== null && v < beforeMs))
    return [...this.rows.values()].filter((r) =>
      (query.statuses === undefined || query.statuses.includes(r.status)) &&
      (query.taskId === undefined || r.taskId === query.taskId) &&
      (query.rootExecutionId === undefined || r.rootExecutionId === query.rootExecutionId) &&
      (query.parentExecutionId === undefined || r.parentExecutionId === query.parentExecutionId) &&
      bounded(r.createdAt, query.createdAfter, query.createdBefore) &&
      bounded(r.finishedAt, query.finishedAfter, query.finishedBefore) &&
      (query.after === undefined || before(key(r), [query.after.createdAt, query.after.executionId]))
    ).sort((a, b) => (before(key(a), key(b)) ? 1 : before(key(b), key(a)) ? -1 : 0)).slice(0, query.limit)
  }

  /** Deletes the oldest finished trees (by their root's finish) without an unfinished execution. */
  purge(request: PurgeRequest): PurgeResult {
    const all = [...this.rows.values()]
    const roots = all.filter((r) =>
      r.rootExecutionId === null && r.finishedAt !== null && r.finishedAt < request.finishedBefore &&
      request.statuses.includes(r.status) &&
      all.every((d) => d.rootExecutionId !== r.executionId || isFinished(d.status))
    ).sort((a, b) => a.finishedAt! - b.finishedAt!).slice(0, request.limit)
    let executions = 0
    for (const root of roots) {
      for (const r of all) {
        if (r.executionId === root.executionId || r.rootExecutionId === root.executionId) {
          this.rows.delete(r.executionId)
          executions++
        }
      }
    }
    return { trees: roots.length, executions }
  }

  nextWake(taskIds: ReadonlySet<string>): { readonly readyAtMs: number | null; readonly expiresAtMs: number | null } {
    let readyAtMs: number | null = null
    let expiresAtMs: number | null = null
    for (const r of this.rows.values()) {
      if (r.status === "ready" && taskIds.has(r.taskId)) readyAtMs = Math.min(readyAtMs ?? r.startAt, r.startAt)
      if (r.status === "running" && r.expiresAt !== null) {
        expiresAtMs = Math.min(expiresAtMs ?? r.expiresAt, r.expiresAt)
      }
    }
    return { readyAtMs, expiresAtMs }
  }

  /** The model as a storage port (each call atomic: it runs synchronously). */
  port(): TaskStorage["Type"] {
    return TaskStorage.of({
      insert: (rows) =>
        Effect.suspend(() => {
          const result = this.insert(rows)
          return "ok" in result
            ? Effect.succeed(result.ok)
            : Effect.fail(new DuplicateExecution({ executionId: result.duplicate }))
        }),
      claim: (request) => Effect.sync(() => this.claim(request)),
      apply: (commands) => Effect.sync(() => this.apply(commands)),
      expire: (args) => Effect.sync(() => this.expire(args)),
      get: (id) => Effect.sync(() => this.get(id)),
      getMany: (ids) => Effect.sync(() => ids.flatMap((id) => this.rows.get(id) ?? [])),
      list: (query) => Effect.sync(() => this.matching(query).slice(0, Math.max(0, query.limit))),
      nextWake: (taskIds) => Effect.sync(() => this.nextWake(taskIds)),
      listPage: (query) => Effect.sync(() => this.listPage(query)),
      countBy: (by) =>
        Effect.sync(() => {
          const counts: Record<string, number> = {}
          for (const r of this.rows.values()) {
            const key = by === "status" ? r.status : r.taskId
            counts[key] = (counts[key] ?? 0) + 1
          }
          return counts
        }),
      tree: (id) =>
        Effect.sync(() => {
          const root = this.rows.get(id)
          if (root === undefined || root.rootExecutionId !== null) return []
          return [root, ...[...this.rows.values()].filter((r) => r.rootExecutionId === id)]
        }),
      purge: (request) => Effect.sync(() => this.purge(request))
    })
  }
}
