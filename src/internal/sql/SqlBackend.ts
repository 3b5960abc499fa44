/**
 * The SQL backend, once for both dialects, on `@effect/sql`'s tagged templates (every value a bound
 * parameter; Postgres's multi-row writes keep a faster form, see `SqlDialects.ts`). The statements'
 * column lists come from the column table (`SqlRow.ts`). The dialects differ only where the
 * databases do, chosen once with `sql.onDialectOrElse`:
 *
 * - Postgres locks the rows a transaction reads (`FOR UPDATE`); claims and expiries skip rows
 *   another transaction holds (`FOR UPDATE SKIP LOCKED`), so executors share the table without
 *   waiting on each other. Claims commit durably.
 * - SQLite serializes writers with `BEGIN IMMEDIATE` (across processes too), so reads inside a
 *   transaction see a state no other writer changes; top-level transactions share commits (group
 *   commit, `SqliteBackend.ts`).
 * - A list of ids or rows travels as one parameter: Postgres arrays (`= ANY`, `unnest`), SQLite one
 *   JSON array (`json_each`). A transaction's writes are one statement per kind (insert,
 *   small-field update, full update) whatever their count.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { Fragment } from "@effect/sql/Statement"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { StorageError } from "../../EngineError.js"
import type { ExecutionRow } from "../../ExecutionRow.js"
import type * as StorageDriver from "../../StorageDriver.js"
import { isFinished, TASK_STATUSES } from "../../TaskStatus.js"
import type { ExecutionQuery, ListQuery, PurgeRequest } from "../../TaskStorage.js"
import { inSqlTransaction, rows as decodedRows, run, type SqlNames, transaction, wake } from "./SqlCommon.js"
import { type DialectParts, pgParts, sqliteParts } from "./SqlDialects.js"
import * as SqlFlow from "./SqlFlow.js"
import * as SqliteBackend from "./SqliteBackend.js"
import { COLUMNS, HOT_COLUMNS, partitionUpdates, SELECT_LIST } from "./SqlRow.js"

/**
 * The backend over a Postgres or SQLite `SqlClient` (without name transforms); SQLite's
 * group-commit fiber lives in the scope.
 *
 * @since 0.1.0
 */
export const make = (
  sql: SqlClient.SqlClient,
  names: SqlNames
): Effect.Effect<StorageDriver.Backend, never, Scope.Scope> => {
  const table = sql.literal(names.table)
  return sql.onDialectOrElse({
    sqlite: () =>
      Effect.map(
        SqliteBackend.makeGroupCommit(sql),
        (groupCommit) =>
          makeWith(sql, table, sqliteParts(sql, table, names.table), {
            withTransaction: SqliteBackend.withImmediateTransaction(sql),
            topLevel: groupCommit
          }, names.table)
      ),
    // Postgres: SqlStorage accepts Postgres and SQLite clients only.
    orElse: () =>
      Effect.succeed(
        makeWith(sql, table, pgParts(sql, table, names.table), { withTransaction: sql.withTransaction }, names.table)
      )
  })
}

const executionIdOf = (record: unknown): string => String((record as { execution_id: unknown }).execution_id)

const makeWith = (
  sql: SqlClient.SqlClient,
  table: Fragment,
  parts: DialectParts,
  transactions: Pick<Parameters<typeof transaction>[0], "withTransaction" | "topLevel">,
  tableName = ""
): StorageDriver.Backend => {
  const rows = (op: string, statement: Parameters<typeof decodedRows>[2]) => decodedRows(parts.dialect, op, statement)
  const columns = sql.literal(SELECT_LIST)
  const byId = (id: string, lock: Fragment) => sql`SELECT ${columns} FROM ${table} WHERE execution_id = ${id}${lock}`
  const byIds = (ids: ReadonlyArray<string>, lock: Fragment) =>
    sql`SELECT ${columns} FROM ${table} WHERE ${parts.anyOf("execution_id", ids)}${lock}`
  const noLock = sql.literal("")
  const updateHot = parts.update(HOT_COLUMNS)
  const updateFull = parts.update(COLUMNS)
  const dueReadyFlow = SqlFlow.make({ ...parts, sql, table, tableName, columns, rows })

  const makeTransaction = (): StorageDriver.Transaction => {
    /** Rows read in this transaction that no other transaction can change before it ends. */
    const stable = new Map<string, ExecutionRow>()
    /** Every row read in this transaction, to write only what changed. */
    const seen = new Map<string, ExecutionRow>()
    const remember = (lock: boolean) => (list: ReadonlyArray<ExecutionRow>) => {
      for (const r of list) {
        seen.set(r.executionId, r)
        if (lock || parts.readsAreStable) stable.set(r.executionId, r)
      }
      return list
    }
    return {
      get: (id) => {
        const cached = stable.get(id)
        if (cached !== undefined) return Effect.succeed(cached)
        return Effect.map(rows("get", byId(id, parts.forUpdate)), (list) => remember(true)(list)[0])
      },
      getMany: (ids) =>
        ids.length === 0 ? Effect.succeed([]) : Effect.map(rows("getMany", byIds(ids, noLock)), remember(false)),
      prefetch: (ids) =>
        ids.length === 0
          ? Effect.void
          : Effect.asVoid(Effect.map(rows("prefetch", byIds(ids, parts.lockInOrder)), remember(true))),
      // A claim commits durably (Postgres's synchronous_commit stays on): with it off, a claim lost in
      // a server crash let the same attempt run twice; an A B A B bench measured no cost (README, Postgres).
      dueReady: ({ limit, nowMs, taskIds }) =>
        Effect.map(
          rows(
            "claim",
            sql`SELECT ${columns} FROM ${table}
              WHERE status = 'ready' AND ${parts.anyOf("task_id", Array.from(taskIds))}
              AND start_at <= ${nowMs} ORDER BY priority DESC, start_at, execution_id LIMIT ${limit}${parts.skipLocked}`
          ),
          remember(true)
        ),
      dueReadyFlow: (args) =>
        Effect.tap(dueReadyFlow(args), (read) => remember(true)(read.candidates.map((c) => c.row))),
      expiredRunning: ({ limit, nowMs }) =>
        Effect.map(
          rows(
            "expire",
            sql`SELECT ${columns} FROM ${table} WHERE status = 'running' AND expires_at <= ${nowMs}
              ORDER BY expires_at, execution_id LIMIT ${limit}${parts.skipLocked}`
          ),
          remember(true)
        ),
      insertKeyed: (list) =>
        Effect.gen(function*() {
          const taken = new Map<string, string>()
          if (list.length === 0) return taken
          const inserted = new Set((yield* run("insert", parts.insertKeyed(list))).map(executionIdOf))
          const skipped = list.filter((r) => !inserted.has(r.executionId))
          if (skipped.length === 0) return taken
          // Each skipped row's key is held by a committed row (Postgres waited for its inserter; READ
          // COMMITTED reads it in this next statement), or by a row this transaction wrote itself.
          const pairs = skipped.map((r) => [r.taskId, r.idempotencyKey!] as const)
          const holders = new Map<string, string>()
          for (const record of yield* run("insert", parts.keyHolders(pairs))) {
            const r = record as { execution_id: unknown; task_id: unknown; idempotency_key: unknown }
            holders.set(`${String(r.task_id)}\u0000${String(r.idempotency_key)}`, String(r.execution_id))
          }
          for (const row of skipped) {
            const holder = holders.get(`${row.taskId}\u0000${row.idempotencyKey}`)
            if (holder === undefined) {
              return yield* new StorageError({
                op: "insert",
                message: `storage insert failed: execution ${row.executionId} was not stored, and no stored ` +
                  `execution of task '${row.taskId}' holds its idempotency key`
              })
            }
            taken.set(row.executionId, holder)
          }
          return taken
        }),
      write: ({ inserted, updated }) =>
        Effect.gen(function*() {
          if (inserted.length > 0) yield* run("insert", parts.insert(inserted))
          const { full, hot } = partitionUpdates(updated, seen)
          if (hot.length > 0) yield* run("update", updateHot(hot))
          if (full.length > 0) yield* run("update", updateFull(full))
        })
    }
  }

  const list = (query: ListQuery) => {
    const where: Array<Fragment> = []
    if (query.status !== undefined) where.push(sql`status = ${query.status}`)
    if (query.taskId !== undefined) where.push(sql`task_id = ${query.taskId}`)
    if (query.rootExecutionId !== undefined) where.push(sql`root_execution_id = ${query.rootExecutionId}`)
    if (query.sleepId !== undefined) where.push(sql`sleep_id = ${query.sleepId}`)
    const limit = Math.max(0, Math.floor(query.limit))
    return rows("list", sql`SELECT ${columns} FROM ${table} WHERE ${sql.and(where)} ORDER BY seq LIMIT ${limit}`)
  }

  /** Newest first; each filter has its index (migration 3), a single status the one in this order. */
  const listPage = (query: ExecutionQuery) => {
    const where: Array<Fragment> = []
    const statuses = query.statuses
    if (statuses !== undefined) {
      where.push(statuses.length === 1 ? sql`status = ${statuses[0]!}` : parts.anyOf("status", statuses))
    }
    if (query.taskId !== undefined) where.push(sql`task_id = ${query.taskId}`)
    if (query.rootExecutionId !== undefined) where.push(sql`root_execution_id = ${query.rootExecutionId}`)
    if (query.parentExecutionId !== undefined) where.push(sql`parent_execution_id = ${query.parentExecutionId}`)
    if (query.createdAfter !== undefined) where.push(sql`created_at > ${query.createdAfter}`)
    if (query.createdBefore !== undefined) where.push(sql`created_at < ${query.createdBefore}`)
    if (query.finishedAfter !== undefined) where.push(sql`finished_at > ${query.finishedAfter}`)
    if (query.finishedBefore !== undefined) where.push(sql`finished_at < ${query.finishedBefore}`)
    if (query.after !== undefined) {
      where.push(sql`(created_at, execution_id) < (${query.after.createdAt}, ${query.after.executionId})`)
    }
    const limit = Math.max(0, Math.floor(query.limit))
    return rows(
      "listPage",
      sql`SELECT ${columns} FROM ${table} WHERE ${sql.and(where)}
        ORDER BY created_at DESC, execution_id DESC LIMIT ${limit}`
    )
  }

  const countBy = (by: "status" | "taskId") =>
    Effect.map(
      run(
        "countBy",
        sql`SELECT ${sql.literal(by === "status" ? "status" : "task_id")} AS k, COUNT(*) AS n FROM ${table}
          GROUP BY 1`
      ),
      (records) => Object.fromEntries(records.map((r) => [String(r["k"]), Number(r["n"])]))
    )

  const unfinished = TASK_STATUSES.filter((s) => !isFinished(s))
  const inTransaction = transaction({
    ...transactions,
    makeTransaction,
    inTransaction: inSqlTransaction(SqlClient.TransactionConnection)
  })

  /**
   * One statement: the roots to delete (locked, skipping those another transaction holds), then
   * their trees. A root whose tree still has an unfinished execution is left. The rows to delete
   * are found by key (primary key, root index): `execution_id IN … OR root_execution_id IN …`
   * scanned the whole table (875 rows/s deleted from 100,000 on SQLite). The roots are found through
   * the finish-time index: `status || ''` keeps SQLite off the status index, by which it read every
   * completed row and sorted them, per batch; `MATERIALIZED` reads them once for both uses.
   */
  const purge = (request: PurgeRequest) =>
    Effect.map(
      inTransaction(() =>
        run(
          "purge",
          sql`WITH roots AS MATERIALIZED (SELECT r.execution_id FROM ${table} r WHERE r.root_execution_id IS NULL
            AND r.finished_at < ${request.finishedBefore} AND ${parts.anyOf("(r.status || '')", request.statuses)}
            AND NOT EXISTS (SELECT 1 FROM ${table} c WHERE c.root_execution_id = r.execution_id
              AND ${parts.anyOf("c.status", unfinished)})
            ORDER BY r.finished_at LIMIT ${Math.floor(request.limit)}${parts.skipLocked}),
          doomed AS (SELECT execution_id FROM roots UNION ALL SELECT d.execution_id FROM ${table} d
            WHERE d.root_execution_id IN (SELECT execution_id FROM roots))
          DELETE FROM ${table} WHERE execution_id IN (SELECT execution_id FROM doomed)
          RETURNING root_execution_id`
        )
      ),
      (deleted) => ({
        trees: deleted.filter((r) => r["root_execution_id"] === null).length,
        executions: deleted.length
      })
    )

  return {
    transaction: inTransaction,
    listPage,
    countBy,
    tree: (id) =>
      rows(
        "tree",
        sql`SELECT ${columns} FROM ${table} WHERE (execution_id = ${id} AND root_execution_id IS NULL)
          OR root_execution_id = ${id} ORDER BY root_execution_id IS NOT NULL, created_at, execution_id`
      ),
    purge,
    get: (id) => Effect.map(rows("get", byId(id, noLock)), (list) => list[0]),
    getMany: (ids) => (ids.length === 0 ? Effect.succeed([]) : rows("getMany", byIds(ids, noLock))),
    list,
    nextWake: (taskIds) =>
      wake(run(
        "nextWake",
        sql`SELECT (SELECT MIN((SELECT start_at FROM ${table} WHERE status = 'ready' AND task_id = x.value
          ORDER BY start_at LIMIT 1)) FROM ${parts.valuesTable(Array.from(taskIds))}) AS ready_at,
          (SELECT MIN(expires_at) FROM ${table} WHERE status = 'running') AS expires_at`
      ))
  }
}
