/**
 * Flow control, pure: a task's concurrency limits (`limit` running executions of the task, `perKey`
 * running executions per concurrency key) across every executor of a storage, and the rule that
 * decides which due executions a claim may start, given the running counts the storage read in the
 * claim's transaction (counts come in like time: as data). Every storage applies {@link admit}; the
 * SQL backends lock so that the counts they pass stay true until their claim commits.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import { InvalidTaskDefinition } from "./EngineError.js"
import type { ExecutionRow } from "./ExecutionRow.js"
import { numberProblem } from "./internal/NumberOption.js"
import { describeValue, unknownKeyProblem } from "./internal/OptionKeys.js"

/** What the storage enforces for one task id. @since 0.1.0 @category models */
export interface FlowLimits {
  /** At most this many running executions of the task. */
  readonly limit?: number | undefined
  /** At most this many running executions per concurrency key (executions without a key share one group). */
  readonly perKey?: number | undefined
}

/**
 * A task's `concurrency` option: its limits and, with `perKey`, `key(input)`, the key of an
 * execution enqueued without the `concurrencyKey` option (called with the input as given to enqueue).
 *
 * @since 0.1.0
 * @category models
 */
export interface ConcurrencyOptions<I = any> extends FlowLimits {
  readonly key?: ((input: I) => string) | undefined
}

/** The running executions of one task the claim's transaction counted. @since 0.1.0 @category models */
export interface RunningCounts {
  readonly total: number
  /** Per concurrency key (`null`: executions without a key); keys with none running left out. */
  readonly byKey: ReadonlyMap<string | null, number>
}

/** Largest limit. @since 0.1.0 @category limits */
export const MAX_LIMIT = 1_000_000

/** Lowest and highest priority (stored as a 32-bit integer). @since 0.1.0 @category limits */
export const MIN_PRIORITY = -2_147_483_648
/** @since 0.1.0 @category limits */
export const MAX_PRIORITY = 2_147_483_647

const limitRange = { min: 1, max: MAX_LIMIT, integer: true }

/**
 * Checks a task's `concurrency` option (undefined: no limits). `limit` and `perKey` are integers from
 * 1; at least one is given.
 *
 * @since 0.1.0
 * @category validation
 */
export const validate = (
  taskId: string,
  options: unknown
): Either.Either<FlowLimits | undefined, InvalidTaskDefinition> => {
  if (options === undefined) return Either.right(undefined)
  const where = `task '${taskId}': concurrency`
  const invalid = (message: string) =>
    Either.left(new InvalidTaskDefinition({ taskId, message: `${where} ${message}` }))
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    return invalid(`must be an object, got ${describeValue(options)}`)
  }
  const unknownKey = unknownKeyProblem(options, ["limit", "perKey"], where)
  if (unknownKey !== undefined) return Either.left(new InvalidTaskDefinition({ taskId, message: unknownKey }))
  const { limit, perKey } = options as Record<string, unknown>
  if (limit === undefined && perKey === undefined) return invalid("needs limit or perKey")
  const problem = (limit === undefined ? undefined : numberProblem("limit", limit, limitRange)) ??
    (perKey === undefined ? undefined : numberProblem("perKey", perKey, limitRange))
  if (problem !== undefined) return invalid(problem)
  return Either.right({ limit: limit as number | undefined, perKey: perKey as number | undefined })
}

/**
 * The claim order: higher `priority` first, then earlier `startAt`, then execution id. A negative
 * number when `a` comes first.
 *
 * @since 0.1.0
 * @category ordering
 */
export const claimOrder = (a: ExecutionRow, b: ExecutionRow): number =>
  b.priority - a.priority || a.startAt - b.startAt || (a.executionId < b.executionId ? -1 : 1)

/** Free slots of a key under `limits` given `running` (Infinity without `perKey`). @since 0.1.0 @category utils */
export const freeForKey = (limits: FlowLimits, running: RunningCounts, key: string | null): number =>
  limits.perKey === undefined ? Infinity : Math.max(0, limits.perKey - (running.byKey.get(key) ?? 0))

/** Free slots of the task under `limits` (Infinity without `limit`). @since 0.1.0 @category utils */
export const freeForTask = (limits: FlowLimits, running: RunningCounts): number =>
  limits.limit === undefined ? Infinity : Math.max(0, limits.limit - running.total)

/**
 * A due ready row a claim may take, with its rank: its place among its key's due ready rows in claim
 * order (0 for the first) under `perKey`, 0 without.
 *
 * @since 0.1.0
 * @category models
 */
export interface Candidate {
  readonly row: ExecutionRow
  readonly rank: number
}

const byRank = (a: Candidate, b: Candidate): number => a.rank - b.rank || claimOrder(a.row, b.row)

/**
 * The rule of a claim: takes `candidates` by rank, then in {@link claimOrder} (every key's first due
 * row before any key's second), at most `slots`, skipping each whose task (per `flow`, with the counts
 * of `runningOf`) has no free slot, task-wide or for its key. Rows of tasks without limits have rank
 * 0 and are taken as they come.
 *
 * @since 0.1.0
 * @category transitions
 */
export const admit = (
  candidates: ReadonlyArray<Candidate>,
  slots: number,
  flow: ReadonlyMap<string, FlowLimits> | undefined,
  runningOf: (taskId: string) => RunningCounts
): ReadonlyArray<ExecutionRow> => {
  const sorted = [...candidates].sort(byRank)
  const out: Array<ExecutionRow> = []
  const taken = new Map<string, { total: number; byKey: Map<string | null, number> }>()
  for (const { row } of sorted) {
    if (out.length >= slots) break
    const limits = flow?.get(row.taskId)
    if (limits === undefined) {
      out.push(row)
      continue
    }
    let mine = taken.get(row.taskId)
    if (mine === undefined) {
      mine = { total: 0, byKey: new Map() }
      taken.set(row.taskId, mine)
    }
    const running = runningOf(row.taskId)
    const key = row.concurrencyKey
    if (freeForTask(limits, running) <= mine.total) continue
    if (freeForKey(limits, running, key) <= (mine.byKey.get(key) ?? 0)) continue
    mine.total++
    mine.byKey.set(key, (mine.byKey.get(key) ?? 0) + 1)
    out.push(row)
  }
  return out
}

/**
 * Running counts of one task, counted from rows (the memory storages and the reference model).
 *
 * @since 0.1.0
 * @category utils
 */
export const countRunning = (rows: Iterable<ExecutionRow>, taskId: string): RunningCounts => {
  let total = 0
  const byKey = new Map<string | null, number>()
  for (const row of rows) {
    if (row.status !== "running" || row.taskId !== taskId) continue
    total++
    byKey.set(row.concurrencyKey, (byKey.get(row.concurrencyKey) ?? 0) + 1)
  }
  return { total, byKey }
}

/**
 * A limited task's claim read from every row (memory storages and test doubles): its due ready rows
 * ranked (under `perKey`, by their place in their key's claim order) and its running counts.
 *
 * @since 0.1.0
 * @category utils
 */
export const scanForClaim = (
  rows: Iterable<ExecutionRow>,
  args: { readonly nowMs: number; readonly taskId: string; readonly limits: FlowLimits }
): { readonly candidates: ReadonlyArray<Candidate>; readonly running: RunningCounts } => {
  const list = Array.from(rows)
  const due = list.filter((r) => r.status === "ready" && r.taskId === args.taskId && r.startAt <= args.nowMs)
  due.sort(claimOrder)
  const seen = new Map<string | null, number>()
  const candidates = due.map((row) => {
    if (args.limits.perKey === undefined) return { row, rank: 0 }
    const rank = seen.get(row.concurrencyKey) ?? 0
    seen.set(row.concurrencyKey, rank + 1)
    return { row, rank }
  })
  return { candidates, running: countRunning(list, args.taskId) }
}
