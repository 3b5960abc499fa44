/**
 * The one place that applies planner steps to storage. A backend provides row access inside a
 * transaction ({@link Backend}); {@link make} turns it into the {@link TaskStorage} port. Reads in a
 * transaction go through an overlay of this transaction's own writes, and the writes are flushed
 * once at the end, so a SQL backend can batch them into a few statements.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { DuplicateExecution, type StorageError } from "./EngineError.js"
import type { ExecutionRow } from "./ExecutionRow.js"
import { guardExecutionIds } from "./internal/ExecutionIdGuard.js"
import * as Planner from "./Planner.js"
import { isFinished } from "./TaskStatus.js"
import type { ApplyResult, Changes, Command, CommandResult, InsertResult } from "./TaskStorage.js"
import { TaskStorage } from "./TaskStorage.js"

/** Row access inside one transaction. @since 0.1.0 @category models */
export interface Transaction {
  /** Reads (and in SQL, locks) one row. */
  readonly get: (executionId: string) => Effect.Effect<ExecutionRow | undefined, StorageError>
  /** Reads rows without locking them (children of a parent, duplicate checks). */
  readonly getMany: (executionIds: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<ExecutionRow>, StorageError>
  /**
   * Optional: reads and locks these rows in one round trip before a batch of commands runs, so
   * that the `get` of each command is served without another query. Backends without it are read
   * row by row.
   */
  readonly prefetch?: (executionIds: ReadonlyArray<string>) => Effect.Effect<void, StorageError>
  /** Due ready rows of these task ids, oldest `startAt` first, locked for this transaction. */
  readonly dueReady: (args: {
    readonly nowMs: number
    readonly limit: number
    readonly taskIds: ReadonlySet<string>
  }) => Effect.Effect<ReadonlyArray<ExecutionRow>, StorageError>
  /** Running rows whose lease expired at or before `nowMs`, locked for this transaction. */
  readonly expiredRunning: (args: { readonly nowMs: number; readonly limit: number }) => Effect.Effect<
    ReadonlyArray<ExecutionRow>,
    StorageError
  >
  /**
   * Reads one row without an effect; optional, for backends that hold their rows in memory: the
   * driver then applies commands without an effect per row.
   */
  readonly getSync?: (executionId: string) => ExecutionRow | undefined
  /**
   * Inserts new rows, some with an idempotency key (keys distinct within `rows`), skipping each row
   * whose `(taskId, idempotencyKey)` a stored row already holds. In SQL the unique index on the pair
   * decides (`ON CONFLICT … DO NOTHING`), so concurrent transactions, in any process, agree. Returns
   * the stored execution id of each skipped row, by the skipped row's execution id.
   */
  readonly insertKeyed: (
    rows: ReadonlyArray<ExecutionRow>
  ) => Effect.Effect<ReadonlyMap<string, string>, StorageError>
  /** Writes the transaction's changes: updated rows replace stored ones, inserted rows are new. */
  readonly write: (args: {
    readonly updated: ReadonlyArray<ExecutionRow>
    readonly inserted: ReadonlyArray<ExecutionRow>
  }) => Effect.Effect<void, StorageError>
}

/** What a storage backend implements. @since 0.1.0 @category models */
export interface Backend {
  /** Runs `f` in one atomic transaction (serialized with other writers where the backend needs it). */
  readonly transaction: <A, E>(f: (tx: Transaction) => Effect.Effect<A, E>) => Effect.Effect<A, E | StorageError>
  readonly get: TaskStorage["Type"]["get"]
  readonly getMany: TaskStorage["Type"]["getMany"]
  readonly list: TaskStorage["Type"]["list"]
  readonly nextWake: TaskStorage["Type"]["nextWake"]
  readonly listPage: TaskStorage["Type"]["listPage"]
  readonly countBy: TaskStorage["Type"]["countBy"]
  readonly tree: TaskStorage["Type"]["tree"]
  readonly purge: TaskStorage["Type"]["purge"]
}

const noChanges: Changes = { finished: [], cancelledRunning: [], readyAtMs: null }
const noInsert: InsertResult = { ...noChanges, executionIds: [] }

/** The identity of a root's idempotency key: its task id and key. @since 0.1.0 @category utils */
export const idempotencyIdentity = (row: ExecutionRow): string | undefined =>
  row.idempotencyKey === null ? undefined : `${row.taskId}\u0000${row.idempotencyKey}`

/** Earliest `startAt` of `rows` (not empty). */
const earliestStart = (rows: ReadonlyArray<ExecutionRow>): number => {
  let readyAtMs = rows[0]!.startAt
  for (const row of rows) readyAtMs = Math.min(readyAtMs, row.startAt)
  return readyAtMs
}

/**
 * Inserts rows some of which carry idempotency keys: a later row of the batch with an earlier
 * row's key is its execution; the others go to `insertKeyed`, which skips those whose key is taken.
 */
const insertWithKeys = (tx: Transaction, rows: ReadonlyArray<ExecutionRow>) =>
  Effect.gen(function*() {
    const firstByKey = new Map<string, string>()
    const executionIds: Array<string> = []
    const candidates: Array<ExecutionRow> = []
    for (const row of rows) {
      const identity = idempotencyIdentity(row)
      const first = identity === undefined ? undefined : firstByKey.get(identity)
      if (first !== undefined) {
        executionIds.push(first)
        continue
      }
      if (identity !== undefined) firstByKey.set(identity, row.executionId)
      executionIds.push(row.executionId)
      candidates.push(row)
    }
    const taken = yield* tx.insertKeyed(candidates)
    const stored = taken.size === 0 ? candidates : candidates.filter((r) => !taken.has(r.executionId))
    const result: InsertResult = {
      finished: [],
      cancelledRunning: [],
      readyAtMs: stored.length === 0 ? null : earliestStart(stored),
      executionIds: taken.size === 0 ? executionIds : executionIds.map((id) => taken.get(id) ?? id)
    }
    return result
  })
const applied: CommandResult = { _tag: "Applied" }

/** Applies commands and their follow-ups inside `tx`; returns results for the top-level commands. */
const applyIn = (tx: Transaction, commands: ReadonlyArray<Command>): Effect.Effect<ApplyResult, StorageError> =>
  Effect.gen(function*() {
    const original = new Map<string, ExecutionRow | undefined>()
    const overlay = new Map<string, ExecutionRow>()
    const inserted = new Map<string, ExecutionRow>()
    const remember = (id: string, row: ExecutionRow | undefined): ExecutionRow | undefined => {
      if (row !== undefined && !original.has(id)) original.set(id, row)
      return row
    }
    const getSync = tx.getSync
    if (tx.prefetch !== undefined && commands.length > 1) {
      yield* tx.prefetch(Array.from(new Set(commands.map((c) => c.executionId))))
    }
    const results: Array<CommandResult> = []
    const queue: Array<{ readonly command: Command; readonly top: boolean }> = commands.map((command) => ({
      command,
      top: true
    }))
    for (let i = 0; i < queue.length; i++) {
      const { command, top } = queue[i]!
      const id = command.executionId
      const row = overlay.get(id) ??
        (getSync !== undefined ? remember(id, getSync(id)) : remember(id, yield* tx.get(id)))
      if (row === undefined) {
        if (top) results.push({ _tag: "NotFound" })
        continue
      }
      let event = command.event
      if (Planner.needsChildren(row, event) && (event._tag === "ChildSucceeded" || event._tag === "Retry")) {
        const ids = row.children.map((c) => c.executionId)
        const missing = ids.filter((id) => !overlay.has(id))
        const fetched = missing.length === 0
          ? []
          : getSync !== undefined
          ? missing.map(getSync).filter((r) => r !== undefined)
          : yield* tx.getMany(missing)
        const byId = new Map(fetched.map((r) => [r.executionId, r] as const))
        const childrenRows = ids.map((id) => overlay.get(id) ?? byId.get(id)).filter((r) => r !== undefined)
        event = { ...event, childrenRows }
      }
      const outcome = Planner.transition(row, event)
      if (outcome._tag === "Rejected") {
        if (top) results.push(outcome)
        continue
      }
      if (top) results.push(applied)
      if (outcome.row !== undefined) overlay.set(outcome.row.executionId, outcome.row)
      for (const insert of outcome.inserts) {
        overlay.set(insert.executionId, insert)
        inserted.set(insert.executionId, insert)
      }
      for (const followUp of outcome.followUps) queue.push({ command: followUp, top: false })
    }
    if (overlay.size === 0) return { results, changes: noChanges }
    const updated: Array<ExecutionRow> = []
    const insertedRows: Array<ExecutionRow> = []
    const finished: Array<string> = []
    const finishedRows: Array<ExecutionRow> = []
    const cancelledRunning: Array<string> = []
    let readyAtMs: number | null = null
    for (const [id, row] of overlay) {
      const before = original.get(id)
      if (inserted.has(id)) insertedRows.push(row)
      else updated.push(row)
      if (isFinished(row.status) && (before === undefined || !isFinished(before.status))) {
        finished.push(id)
        finishedRows.push(row)
      }
      if (row.status === "cancelled" && before?.status === "running") cancelledRunning.push(id)
      if (row.status === "ready" && before?.status !== "ready") {
        readyAtMs = readyAtMs === null ? row.startAt : Math.min(readyAtMs, row.startAt)
      }
    }
    yield* tx.write({ updated, inserted: insertedRows })
    return { results, changes: { finished, cancelledRunning, readyAtMs, insertedRows, finishedRows } }
  })

/**
 * Builds the {@link TaskStorage} port from a backend.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (backend: Backend): TaskStorage["Type"] =>
  // Ids given by callers (get, wait, cancel) that no storage can hold are not found, in every backend.
  guardExecutionIds(TaskStorage.of({
    insert: (rows) =>
      backend.transaction((tx) =>
        Effect.gen(function*() {
          if (rows.length === 0) return noInsert
          const existing = yield* tx.getMany(rows.map((r) => r.executionId))
          if (existing.length > 0) return yield* new DuplicateExecution({ executionId: existing[0]!.executionId })
          if (rows.some((r) => r.idempotencyKey !== null)) return yield* insertWithKeys(tx, rows)
          yield* tx.write({ updated: [], inserted: rows })
          const result: InsertResult = {
            finished: [],
            cancelledRunning: [],
            readyAtMs: earliestStart(rows),
            executionIds: rows.map((r) => r.executionId)
          }
          return result
        })
      ),
    claim: (request) =>
      request.limit <= 0 || request.taskIds.size === 0 ?
        Effect.succeed([]) :
        backend.transaction((tx) =>
          Effect.gen(function*() {
            const due = yield* tx.dueReady({ nowMs: request.nowMs, limit: request.limit, taskIds: request.taskIds })
            const claimed: Array<ExecutionRow> = []
            for (const row of due) {
              const outcome = Planner.transition(row, {
                _tag: "Claim",
                nowMs: request.nowMs,
                leaseId: `${request.claimId}:${row.executionId}`,
                executorId: request.executorId,
                leaseLeewayMs: request.leaseLeewayMs
              })
              if (outcome._tag === "Step" && outcome.row !== undefined) claimed.push(outcome.row)
            }
            if (claimed.length > 0) yield* tx.write({ updated: claimed, inserted: [] })
            return claimed
          })
        ),
    apply: (commands) =>
      commands.length === 0
        ? Effect.succeed({ results: [], changes: noChanges })
        : backend.transaction((tx) => applyIn(tx, commands)),
    expire: ({ limit, nowMs }) =>
      backend.transaction((tx) =>
        Effect.flatMap(tx.expiredRunning({ nowMs, limit }), (rows) =>
          rows.length === 0
            ? Effect.succeed({ results: [], changes: noChanges })
            : applyIn(tx, rows.map((r) => ({ executionId: r.executionId, event: { _tag: "LeaseExpired", nowMs } }))))
      ),
    get: backend.get,
    getMany: backend.getMany,
    list: backend.list,
    nextWake: backend.nextWake,
    listPage: backend.listPage,
    countBy: backend.countBy,
    tree: backend.tree,
    purge: (request) =>
      request.limit <= 0 || request.statuses.length === 0 ?
        Effect.succeed({ trees: 0, executions: 0 }) :
        backend.purge(request)
  }))
