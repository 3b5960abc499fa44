/**
 * What the SQL backend does differently on Postgres and on SQLite, in one place: how a list of ids or
 * rows travels (Postgres arrays and `unnest`, SQLite one JSON array and `json_each`), row locks and
 * `SKIP LOCKED`, and the idempotency-key conflict clause. `SqlBackend.ts` picks one with
 * `sql.onDialectOrElse`.
 *
 * @since 0.1.0
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type { Fragment } from "@effect/sql/Statement"
import type * as Effect from "effect/Effect"
import type { ExecutionRow } from "../../ExecutionRow.js"
import { type Column, COLUMNS, paramsOf, type RowDialect, SELECT_LIST } from "./SqlRow.js"

/** The Postgres type of a column's array parameter. */
const pgType = (c: Column): string =>
  c.kind === "int4" ? "integer" : c.kind === "int8" ? "bigint" : c.kind === "bool" ? "boolean" : "text"

/** What differs between the dialects, beyond the placeholders the client writes. */
export interface DialectParts {
  readonly dialect: RowDialect
  /** `column` equals one of `values` (text). */
  readonly anyOf: (column: string, values: ReadonlyArray<string>) => Fragment
  /** A one-column table `x(value)` of `values` (text). */
  readonly valuesTable: (values: ReadonlyArray<string>) => Fragment
  /** Appended to reads that lock their rows; SQLite's writer already holds the whole database. */
  readonly forUpdate: Fragment
  /** Appended to prefetches: rows locked in one order, so that two prefetches never deadlock. */
  readonly lockInOrder: Fragment
  /** Appended to claims and expiries: rows another transaction holds are skipped. */
  readonly skipLocked: Fragment
  /** Writes rows as new (`INSERT`) or over the stored ones (`UPDATE` of `columns`). */
  readonly insert: (rows: ReadonlyArray<ExecutionRow>) => Effect.Effect<unknown, SqlError>
  readonly update: (
    columns: ReadonlyArray<Column>
  ) => (rows: ReadonlyArray<ExecutionRow>) => Effect.Effect<unknown, SqlError>
  /**
   * Inserts rows but skips each whose `(task_id, idempotency_key)` is taken (the unique index of
   * migration 2 decides); returns the inserted rows' `execution_id`s.
   */
  readonly insertKeyed: (rows: ReadonlyArray<ExecutionRow>) => Effect.Effect<ReadonlyArray<unknown>, SqlError>
  /** The stored rows holding these `(task_id, idempotency_key)` pairs: `execution_id, task_id, idempotency_key`. */
  readonly keyHolders: (
    pairs: ReadonlyArray<readonly [taskId: string, key: string]>
  ) => Effect.Effect<ReadonlyArray<unknown>, SqlError>
  /** True when every row read in a transaction stays as read until it ends (SQLite's write lock). */
  readonly readsAreStable: boolean
}

/**
 * Postgres writes: the fast form. The statement text is generated once from the column table, with
 * one array parameter per column (`unnest($k::type[], …)`), and run with `sql.unsafe`. Compiling the
 * tagged-template form (a fragment per column, joined with `sql.csv`) measured, per statement, 13–26 µs
 * against 4–8 µs for this 32-column insert (2 cores at load 6–10; 51–89 µs against 31–32 µs at load
 * 16), and 45 µs against 12 µs for the 16-column hot update (load 16); A/B in one process,
 * interleaved, medians of 20 rounds of 5,000. These run on every enqueue, claim and finish; SQLite's
 * writes pass one JSON parameter, so their template costs under 1 µs more and stays.
 */
const unnestWrite = (
  sql: SqlClient.SqlClient,
  columns: ReadonlyArray<Column>,
  text: (unnest: string) => string
) => {
  const params = paramsOf("pg", columns)
  const statement = text(`unnest(${columns.map((c, k) => `$${k + 1}::${pgType(c)}[]`).join(", ")})`)
  return (list: ReadonlyArray<ExecutionRow>) => {
    const arrays = columns.map(() => new Array<unknown>(list.length))
    for (let i = 0; i < list.length; i++) {
      const values = params(list[i]!)
      for (let k = 0; k < values.length; k++) arrays[k]![i] = values[k]
    }
    return sql.unsafe(statement, arrays)
  }
}

/** The conflict clause of an insert that skips rows whose idempotency key is taken (migration 2's index). */
const SKIP_TAKEN_KEYS = "ON CONFLICT (task_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING " +
  "RETURNING execution_id"

/** Postgres: arrays as parameters, row locks, `SKIP LOCKED`. */
export const pgParts = (sql: SqlClient.SqlClient, table: Fragment, tableName: string): DialectParts => ({
  dialect: "pg",
  anyOf: (column, values) => sql`${sql.literal(column)} = ANY(${values}::text[])`,
  valuesTable: (values) => sql`unnest(${values}::text[]) AS x(value)`,
  forUpdate: sql.literal(" FOR UPDATE"),
  lockInOrder: sql.literal(" ORDER BY execution_id FOR UPDATE"),
  skipLocked: sql.literal(" FOR UPDATE SKIP LOCKED"),
  insert: unnestWrite(sql, COLUMNS, (unnest) => `INSERT INTO ${tableName} (${SELECT_LIST}) SELECT * FROM ${unnest}`),
  insertKeyed: unnestWrite(
    sql,
    COLUMNS,
    (unnest) => `INSERT INTO ${tableName} (${SELECT_LIST}) SELECT * FROM ${unnest} ${SKIP_TAKEN_KEYS}`
  ),
  keyHolders: (pairs) =>
    sql`SELECT t.execution_id, t.task_id, t.idempotency_key FROM ${table} AS t
      JOIN unnest(${pairs.map((p) => p[0])}::text[], ${pairs.map((p) => p[1])}::text[]) AS k(task_id, key)
      ON t.task_id = k.task_id AND t.idempotency_key = k.key WHERE t.idempotency_key IS NOT NULL`,
  update: (columns) => {
    const names = columns.map((c) => c.sqlName)
    const set = names.slice(1).map((name) => `${name} = d.${name}`).join(", ")
    return unnestWrite(
      sql,
      columns,
      (unnest) =>
        `UPDATE ${tableName} AS t SET ${set} FROM ${unnest} AS d(${names.join(", ")}) ` +
        "WHERE t.execution_id = d.execution_id"
    )
  },
  readsAreStable: false
})

/** SQLite: one JSON parameter per list, no row locks (its writer holds the database). */
export const sqliteParts = (sql: SqlClient.SqlClient, table: Fragment, tableName: string): DialectParts => {
  const empty = sql.literal("")
  /** The rows as one JSON array of arrays (one per row, in column order). */
  const json = (columns: ReadonlyArray<Column>) => {
    const params = paramsOf("sqlite", columns)
    return (list: ReadonlyArray<ExecutionRow>) => JSON.stringify(list.map(params))
  }
  const fromJson = (columns: ReadonlyArray<Column>) => columns.map((_, k) => `d.value ->> ${k}`)
  const insertJson = json(COLUMNS)
  const insertValues = sql.literal(fromJson(COLUMNS).join(", "))
  const columnList = sql.literal(SELECT_LIST)
  return {
    dialect: "sqlite",
    anyOf: (column, values) => sql`${sql.literal(column)} IN (SELECT value FROM json_each(${JSON.stringify(values)}))`,
    valuesTable: (values) => sql`json_each(${JSON.stringify(values)}) AS x`,
    forUpdate: empty,
    lockInOrder: empty,
    skipLocked: empty,
    insert: (list) =>
      sql`INSERT INTO ${table} (${columnList}) SELECT ${insertValues} FROM json_each(${insertJson(list)}) AS d`,
    // `WHERE true`: without it SQLite would read `ON CONFLICT` as a join constraint of the SELECT.
    insertKeyed: (list) =>
      sql`INSERT INTO ${table} (${columnList}) SELECT ${insertValues} FROM json_each(${insertJson(list)}) AS d
        WHERE true ${sql.literal(SKIP_TAKEN_KEYS)}`,
    keyHolders: (pairs) =>
      sql`SELECT t.execution_id, t.task_id, t.idempotency_key FROM json_each(${JSON.stringify(pairs)}) AS k
        JOIN ${table} AS t ON t.task_id = k.value ->> 0 AND t.idempotency_key = k.value ->> 1
        WHERE t.idempotency_key IS NOT NULL`,
    update: (columns) => {
      const values = fromJson(columns)
      const rowsJson = json(columns)
      const set = sql.literal(columns.slice(1).map((c, k) => `${c.sqlName} = ${values[k + 1]}`).join(", "))
      const match = sql.literal(`${tableName}.execution_id = ${values[0]}`)
      return (list) => sql`UPDATE ${table} SET ${set} FROM json_each(${rowsJson(list)}) AS d WHERE ${match}`
    },
    readsAreStable: true
  }
}
