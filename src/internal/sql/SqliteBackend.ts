/**
 * The SQLite dialect of the SQL backend. Every transaction starts with `BEGIN IMMEDIATE`, so
 * writers are serialized across processes too (each waits up to the connection's busy timeout),
 * and reads inside a transaction see a state no other writer changes. A transaction's writes are
 * one statement per kind (insert, small-field update, full update), its rows passed as one JSON
 * array and unpacked with `json_each`.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { Connection } from "@effect/sql/SqlConnection"
import type { SqlError } from "@effect/sql/SqlError"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Queue from "effect/Queue"
import * as Scope from "effect/Scope"
import type { ExecutionRow } from "../../ExecutionRow.js"
import type * as StorageDriver from "../../StorageDriver.js"
import type { ListQuery } from "../../TaskStorage.js"
import { beginImmediate } from "./SqliteBusy.js"
import { inSqlTransaction, rows as decodedRows, run, type SqlNames, transaction, wake } from "./SqlCommon.js"
import { type Column, COLUMNS, HOT_COLUMNS, paramOf, partitionUpdates, SELECT_LIST } from "./SqlRow.js"

const sqliteType = (c: Column): string => (c.kind === "text" || c.kind === "json" ? "TEXT" : "INTEGER")

/** `CREATE TABLE` and indexes. @since 0.1.0 */
export const migrations = (names: SqlNames): ReadonlyArray<{ readonly version: number; readonly name: string; readonly statements: ReadonlyArray<string> }> => {
  const t = names.table
  const i = (suffix: string) => `"${names.indexBase}_${suffix}"`
  const columns = COLUMNS.map((c) =>
    `${c.name} ${sqliteType(c)}${c.nullable ? "" : " NOT NULL"}${c.name === "execution_id" ? " UNIQUE" : ""}`
  )
  return [{
    version: 1,
    name: "create executions",
    statements: [
      // `seq` is the rowid: insertion order, stable across VACUUM.
      `CREATE TABLE IF NOT EXISTS ${t} (seq INTEGER PRIMARY KEY, ${columns.join(", ")})`,
      `CREATE INDEX IF NOT EXISTS ${i("ready")} ON ${t} (task_id, start_at) WHERE status = 'ready'`,
      `CREATE INDEX IF NOT EXISTS ${i("running")} ON ${t} (expires_at) WHERE status = 'running'`,
      `CREATE INDEX IF NOT EXISTS ${i("parent")} ON ${t} (parent_execution_id) WHERE parent_execution_id IS NOT NULL`,
      `CREATE INDEX IF NOT EXISTS ${i("root")} ON ${t} (root_execution_id) WHERE root_execution_id IS NOT NULL`,
      `CREATE INDEX IF NOT EXISTS ${i("status")} ON ${t} (status)`
    ]
  }]
}

const isNoTransaction = (e: unknown): boolean => /no transaction is active/i.test(String((e as { cause?: unknown })?.cause ?? e))

/**
 * `sql.withTransaction`, but opening with `BEGIN IMMEDIATE` (the write lock at once, so two
 * processes never both read and then both try to write), over the client's reserved connection.
 *
 * @since 0.1.0
 */
export const withImmediateTransaction = (sql: SqlClient.SqlClient) =>
  SqlClient.makeWithTransaction<SqlClient.TransactionConnection, Connection>({
    transactionTag: SqlClient.TransactionConnection,
    spanAttributes: [["db.system.name", "sqlite"]],
    acquireConnection: Effect.flatMap(Scope.make(), (scope) =>
      Effect.map(Scope.extend(sql.reserve, scope), (conn) => [scope, conn] as const)),
    // Waits for another process's write lock without blocking the event loop.
    begin: beginImmediate,
    savepoint: (conn, id) => Effect.asVoid(conn.executeUnprepared(`SAVEPOINT durable_tasks_${id}`, [], undefined)),
    commit: (conn) => Effect.asVoid(conn.executeUnprepared("COMMIT", [], undefined)),
    // After a failed BEGIN (busy) there is nothing to roll back.
    rollback: (conn) =>
      conn.executeUnprepared("ROLLBACK", [], undefined).pipe(
        Effect.asVoid,
        Effect.catchIf(isNoTransaction, () => Effect.void)
      ),
    rollbackSavepoint: (conn, id) => Effect.asVoid(conn.executeUnprepared(`ROLLBACK TO SAVEPOINT durable_tasks_${id}`, [], undefined))
  })

/**
 * Group commit: top-level transactions that arrive together run one after another inside one
 * `BEGIN IMMEDIATE … COMMIT`, each in its own savepoint (a failure rolls back only its own work),
 * so a burst of enqueues, claims and finishes costs one sync to disk instead of one each. Results
 * are handed out after the commit.
 *
 * @since 0.1.0
 */
export const makeGroupCommit = (
  sql: SqlClient.SqlClient,
  maxBatch = 256
): Effect.Effect<<A, E>(self: Effect.Effect<A, E>) => Effect.Effect<A, E | SqlError>, never, Scope.Scope> =>
  Effect.gen(function*() {
    interface Pending {
      readonly run: Effect.Effect<unknown, unknown>
      readonly done: Deferred.Deferred<unknown, unknown>
    }
    const withTransaction = withImmediateTransaction(sql)
    const queue = yield* Queue.unbounded<Pending>()
    const runBatch = (batch: ReadonlyArray<Pending>) =>
      withTransaction(Effect.forEach(batch, (p) => Effect.exit(withTransaction(p.run)))).pipe(
        Effect.exit,
        Effect.flatMap((outer) =>
          Exit.isSuccess(outer)
            ? Effect.forEach(batch, (p, i) => Deferred.done(p.done, outer.value[i]!), { discard: true })
            : Effect.forEach(batch, (p) => Deferred.failCause(p.done, outer.cause), { discard: true })
        )
      )
    yield* Queue.takeBetween(queue, 1, maxBatch).pipe(
      Effect.flatMap((chunk) => runBatch(Array.from(chunk))),
      Effect.forever,
      Effect.forkScoped
    )
    return <A, E>(run: Effect.Effect<A, E>) =>
      Effect.flatMap(Deferred.make<A, E | SqlError>(), (done) =>
        Effect.zipRight(
          Queue.offer(queue, { run, done: done as Deferred.Deferred<unknown, unknown> }),
          Deferred.await(done)
        ))
  })

/** The backend over a SQLite `SqlClient`; its group-commit fiber lives in the scope. @since 0.1.0 */
export const make = (sql: SqlClient.SqlClient, names: SqlNames): Effect.Effect<StorageDriver.Backend, never, Scope.Scope> =>
  Effect.map(makeGroupCommit(sql), (groupCommit) => makeWith(sql, names, groupCommit))

const makeWith = (
  sql: SqlClient.SqlClient,
  names: SqlNames,
  groupCommit: <A, E>(self: Effect.Effect<A, E>) => Effect.Effect<A, E | SqlError>
): StorageDriver.Backend => {
  const T = names.table
  const rows = (op: string, statement: Parameters<typeof decodedRows>[2]) => decodedRows("sqlite", op, statement)
  const select = (where: string) => `SELECT ${SELECT_LIST} FROM ${T} WHERE ${where}`
  const GET = select("execution_id = ?")
  const GET_MANY = select("execution_id IN (SELECT value FROM json_each(?))")
  const DUE_READY = `${select("status = 'ready' AND task_id IN (SELECT value FROM json_each(?)) AND start_at <= ?")} ` +
    `ORDER BY start_at, execution_id LIMIT ?`
  const EXPIRED = `${select("status = 'running' AND expires_at <= ?")} ORDER BY expires_at, execution_id LIMIT ?`
  // A transaction's rows travel as one JSON array of arrays (one per row, in column order) and are
  // written by one statement each for inserts, small-field updates and full updates.
  const fromJson = (cols: ReadonlyArray<Column>) => cols.map((c, k) => `d.value ->> ${k}`)
  const INSERT = `INSERT INTO ${T} (${SELECT_LIST}) SELECT ${fromJson(COLUMNS).join(", ")} FROM json_each(?) AS d`
  const update = (cols: ReadonlyArray<Column>) => {
    const values = fromJson(cols)
    return `UPDATE ${T} SET ${cols.slice(1).map((c, k) => `${c.name} = ${values[k + 1]}`).join(", ")} ` +
      `FROM json_each(?) AS d WHERE ${T}.execution_id = ${values[0]}`
  }
  const UPDATE_HOT = update(HOT_COLUMNS)
  const UPDATE_FULL = update(COLUMNS)
  const NEXT_WAKE = `SELECT (SELECT MIN((SELECT start_at FROM ${T} WHERE status = 'ready' AND task_id = x.value ` +
    `ORDER BY start_at LIMIT 1)) FROM json_each(?) AS x) AS ready_at, ` +
    `(SELECT MIN(expires_at) FROM ${T} WHERE status = 'running') AS expires_at`

  const rowsJson = (cols: ReadonlyArray<Column>, list: ReadonlyArray<ExecutionRow>) =>
    JSON.stringify(list.map((row) => cols.map((c) => paramOf(c, row, true))))

  const makeTransaction = (): StorageDriver.Transaction => {
    /** Every row read in this transaction (as stored: nobody else writes until it ends). */
    const seen = new Map<string, ExecutionRow>()
    const remember = (list: ReadonlyArray<ExecutionRow>) => {
      for (const r of list) seen.set(r.executionId, r)
      return list
    }
    return {
      get: (id) => {
        const cached = seen.get(id)
        if (cached !== undefined) return Effect.succeed(cached)
        return Effect.map(rows("get", sql.unsafe(GET, [id])), (list) => remember(list)[0])
      },
      prefetch: (ids) => Effect.asVoid(Effect.map(rows("prefetch", sql.unsafe(GET_MANY, [JSON.stringify(ids)])), remember)),
      getMany: (ids) =>
        ids.length === 0 ? Effect.succeed([]) : Effect.map(rows("getMany", sql.unsafe(GET_MANY, [JSON.stringify(ids)])), remember),
      dueReady: ({ limit, nowMs, taskIds }) =>
        Effect.map(rows("claim", sql.unsafe(DUE_READY, [JSON.stringify(Array.from(taskIds)), nowMs, limit])), remember),
      expiredRunning: ({ limit, nowMs }) => Effect.map(rows("expire", sql.unsafe(EXPIRED, [nowMs, limit])), remember),
      write: ({ inserted, updated }) =>
        Effect.gen(function*() {
          if (inserted.length > 0) yield* run("insert", sql.unsafe(INSERT, [rowsJson(COLUMNS, inserted)]))
          const { full, hot } = partitionUpdates(updated, seen)
          if (hot.length > 0) yield* run("update", sql.unsafe(UPDATE_HOT, [rowsJson(HOT_COLUMNS, hot)]))
          if (full.length > 0) yield* run("update", sql.unsafe(UPDATE_FULL, [rowsJson(COLUMNS, full)]))
        })
    }
  }

  const list = (query: ListQuery) => {
    const where: Array<string> = []
    const params: Array<unknown> = []
    if (query.status !== undefined) {
      where.push("status = ?")
      params.push(query.status)
    }
    if (query.taskId !== undefined) {
      where.push("task_id = ?")
      params.push(query.taskId)
    }
    if (query.rootExecutionId !== undefined) {
      where.push("root_execution_id = ?")
      params.push(query.rootExecutionId)
    }
    params.push(Math.max(0, Math.floor(query.limit)))
    const text = `SELECT ${SELECT_LIST} FROM ${T}${where.length > 0 ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY seq LIMIT ?`
    return rows("list", sql.unsafe(text, params))
  }

  return {
    transaction: transaction({
      withTransaction: withImmediateTransaction(sql),
      topLevel: groupCommit,
      makeTransaction,
      inTransaction: inSqlTransaction(SqlClient.TransactionConnection)
    }),
    get: (id) => Effect.map(rows("get", sql.unsafe(GET, [id])), (list) => list[0]),
    getMany: (ids) => (ids.length === 0 ? Effect.succeed([]) : rows("getMany", sql.unsafe(GET_MANY, [JSON.stringify(ids)]))),
    list,
    nextWake: (taskIds) => wake(run("nextWake", sql.unsafe(NEXT_WAKE, [JSON.stringify(Array.from(taskIds))])))
  }
}
