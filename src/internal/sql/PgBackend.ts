/**
 * The Postgres dialect of the SQL backend. Rows a transaction touches are locked (`FOR UPDATE`);
 * claims and expiries skip rows another transaction holds (`FOR UPDATE SKIP LOCKED`), so many
 * executors share the table without waiting on each other. A transaction's writes are a few
 * statements whatever their count: one multi-row `INSERT … SELECT FROM unnest(…)` and at most two
 * `UPDATE … FROM unnest(…)` (small fields only, or every field).
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import type { ExecutionRow } from "../../ExecutionRow.js"
import type * as StorageDriver from "../../StorageDriver.js"
import type { ListQuery } from "../../TaskStorage.js"
import { inSqlTransaction, rows as decodedRows, run, type SqlNames, transaction, wake } from "./SqlCommon.js"
import { type Column, COLUMNS, HOT_COLUMNS, paramOf, partitionUpdates, SELECT_LIST } from "./SqlRow.js"

const pgType = (c: Column): string => {
  switch (c.kind) {
    case "text":
    case "json":
      return "text"
    case "int4":
      return "integer"
    case "int8":
      return "bigint"
    case "bool":
      return "boolean"
  }
}

/** `CREATE TABLE` and indexes. @since 0.1.0 */
export const migrations = (names: SqlNames): ReadonlyArray<{ readonly version: number; readonly name: string; readonly statements: ReadonlyArray<string> }> => {
  const t = names.table
  const i = (suffix: string) => `"${names.indexBase}_${suffix}"`
  const columns = COLUMNS.map((c) =>
    `${c.name} ${c.kind === "json" ? "text" : pgType(c)}${c.nullable ? "" : " NOT NULL"}${c.name === "execution_id" ? " PRIMARY KEY" : ""}`
  )
  return [{
    version: 1,
    name: "create executions",
    statements: [
      `CREATE TABLE IF NOT EXISTS ${t} (seq bigint GENERATED ALWAYS AS IDENTITY, ${columns.join(", ")})`,
      // Claiming: due ready rows of some task ids, oldest start first.
      `CREATE INDEX IF NOT EXISTS ${i("ready")} ON ${t} (task_id, start_at) WHERE status = 'ready'`,
      // Lease expiry and nextWake.
      `CREATE INDEX IF NOT EXISTS ${i("running")} ON ${t} (expires_at) WHERE status = 'running'`,
      `CREATE INDEX IF NOT EXISTS ${i("parent")} ON ${t} (parent_execution_id) WHERE parent_execution_id IS NOT NULL`,
      `CREATE INDEX IF NOT EXISTS ${i("root")} ON ${t} (root_execution_id, seq) WHERE root_execution_id IS NOT NULL`,
      // Listing by status.
      `CREATE INDEX IF NOT EXISTS ${i("status")} ON ${t} (status, seq)`
    ]
  }]
}

/** The backend over a Postgres `SqlClient`. @since 0.1.0 */
export const make = (sql: SqlClient.SqlClient, names: SqlNames): StorageDriver.Backend => {
  const T = names.table
  const rows = (op: string, statement: Parameters<typeof decodedRows>[2]) => decodedRows("pg", op, statement)
  const select = (where: string) => `SELECT ${SELECT_LIST} FROM ${T} WHERE ${where}`
  const GET = select("execution_id = $1")
  const GET_FOR_UPDATE = `${GET} FOR UPDATE`
  const GET_MANY = select("execution_id = ANY($1::text[])")
  const LOCK_MANY = `${GET_MANY} ORDER BY execution_id FOR UPDATE`
  const DUE_READY = `${select("status = 'ready' AND task_id = ANY($1::text[]) AND start_at <= $2")} ` +
    `ORDER BY start_at, execution_id LIMIT $3 FOR UPDATE SKIP LOCKED`
  const EXPIRED = `${select("status = 'running' AND expires_at <= $1")} ` +
    `ORDER BY expires_at, execution_id LIMIT $2 FOR UPDATE SKIP LOCKED`
  const arrays = (cols: ReadonlyArray<Column>) => cols.map((c, k) => `$${k + 1}::${pgType(c)}[]`).join(", ")
  const INSERT = `INSERT INTO ${T} (${SELECT_LIST}) SELECT * FROM unnest(${arrays(COLUMNS)})`
  const update = (cols: ReadonlyArray<Column>) =>
    `UPDATE ${T} AS t SET ${cols.slice(1).map((c) => `${c.name} = d.${c.name}`).join(", ")} ` +
    `FROM unnest(${arrays(cols)}) AS d(${cols.map((c) => c.name).join(", ")}) WHERE t.execution_id = d.execution_id`
  const UPDATE_HOT = update(HOT_COLUMNS)
  const UPDATE_FULL = update(COLUMNS)
  const NEXT_WAKE = `SELECT (SELECT MIN((SELECT start_at FROM ${T} WHERE status = 'ready' AND task_id = x.id ` +
    `ORDER BY start_at LIMIT 1)) FROM unnest($1::text[]) AS x(id)) AS ready_at, ` +
    `(SELECT MIN(expires_at) FROM ${T} WHERE status = 'running') AS expires_at`

  const columnArrays = (cols: ReadonlyArray<Column>, list: ReadonlyArray<ExecutionRow>) =>
    cols.map((c) => list.map((r) => paramOf(c, r, false)))

  const makeTransaction = (): StorageDriver.Transaction => {
    /** Rows read and locked in this transaction, as stored. */
    const locked = new Map<string, ExecutionRow>()
    /** Every row read in this transaction, to write only what changed. */
    const seen = new Map<string, ExecutionRow>()
    const remember = (list: ReadonlyArray<ExecutionRow>, lock: boolean) => {
      for (const r of list) {
        seen.set(r.executionId, r)
        if (lock) locked.set(r.executionId, r)
      }
      return list
    }
    return {
      get: (id) => {
        const cached = locked.get(id)
        if (cached !== undefined) return Effect.succeed(cached)
        return Effect.map(rows("get", sql.unsafe(GET_FOR_UPDATE, [id])), (list) => remember(list, true)[0])
      },
      getMany: (ids) =>
        ids.length === 0 ? Effect.succeed([]) : Effect.map(rows("getMany", sql.unsafe(GET_MANY, [ids])), (list) => remember(list, false)),
      prefetch: (ids) =>
        ids.length === 0 ? Effect.void : Effect.asVoid(Effect.map(rows("prefetch", sql.unsafe(LOCK_MANY, [ids])), (list) => remember(list, true))),
      // A claim commits durably (synchronous_commit stays on): with it off, a claim lost in a server
      // crash let the same attempt run twice. Measured cost: within the noise (README, Postgres).
      dueReady: ({ limit, nowMs, taskIds }) =>
        Effect.map(rows("claim", sql.unsafe(DUE_READY, [Array.from(taskIds), nowMs, limit])), (list) => remember(list, true)),
      expiredRunning: ({ limit, nowMs }) =>
        Effect.map(rows("expire", sql.unsafe(EXPIRED, [nowMs, limit])), (list) => remember(list, true)),
      write: ({ inserted, updated }) =>
        Effect.gen(function*() {
          if (inserted.length > 0) yield* run("insert", sql.unsafe(INSERT, columnArrays(COLUMNS, inserted)))
          const { full, hot } = partitionUpdates(updated, seen)
          if (hot.length > 0) yield* run("update", sql.unsafe(UPDATE_HOT, columnArrays(HOT_COLUMNS, hot)))
          if (full.length > 0) yield* run("update", sql.unsafe(UPDATE_FULL, columnArrays(COLUMNS, full)))
        })
    }
  }

  const list = (query: ListQuery) => {
    const where: Array<string> = []
    const params: Array<unknown> = []
    const add = (column: string, value: unknown) => {
      params.push(value)
      where.push(`${column} = $${params.length}`)
    }
    if (query.status !== undefined) add("status", query.status)
    if (query.taskId !== undefined) add("task_id", query.taskId)
    if (query.rootExecutionId !== undefined) add("root_execution_id", query.rootExecutionId)
    params.push(Math.max(0, Math.floor(query.limit)))
    const text = `SELECT ${SELECT_LIST} FROM ${T}${where.length > 0 ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY seq LIMIT $${params.length}`
    return rows("list", sql.unsafe(text, params))
  }

  return {
    transaction: transaction({
      withTransaction: sql.withTransaction,
      makeTransaction,
      inTransaction: inSqlTransaction(SqlClient.TransactionConnection)
    }),
    get: (id) => Effect.map(rows("get", sql.unsafe(GET, [id])), (list) => list[0]),
    getMany: (ids) => (ids.length === 0 ? Effect.succeed([]) : rows("getMany", sql.unsafe(GET_MANY, [ids]))),
    list,
    nextWake: (taskIds) =>
      wake(run("nextWake", sql.unsafe(NEXT_WAKE, [Array.from(taskIds)])))
  }
}
