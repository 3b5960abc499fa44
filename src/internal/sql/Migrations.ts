/**
 * The SQL storage's migrations and their runner. Each migration is frozen DDL per dialect, in its
 * own numbered file under `migrations/`, collected in a record keyed `<id>_<name>` (the shape of
 * `@effect/sql`'s `Migrator.fromRecord`). A change to the stored row is a new migration, never an
 * edit of an old one, so a database created by any version upgrades to the same schema as a new one.
 *
 * @since 0.1.0
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { StorageError } from "../../EngineError.js"
import { migration as createExecutions } from "./migrations/0001_create_executions.js"
import { migration as idempotencyKeys } from "./migrations/0002_idempotency_keys.js"
import { migration as attemptsAndQueryIndexes } from "./migrations/0003_attempts_and_query_indexes.js"
import { migration as traceContext } from "./migrations/0004_trace_context.js"
import { migration as schedules } from "./migrations/0005_schedules.js"
import { run, type SqlNames, toStorageError } from "./SqlCommon.js"
import { withImmediateTransaction } from "./SqliteBackend.js"

/** The names a migration's DDL uses, validated and quoted. @since 0.1.0 */
export interface MigrationNames {
  /** The executions table, quoted (and schema-qualified when a schema is set). */
  readonly table: string
  /** An index name, quoted: `<prefix>executions_<suffix>`. */
  readonly index: (suffix: string) => string
  /** The schedules table, quoted (and schema-qualified when a schema is set). */
  readonly schedulesTable: string
}

/** One migration: its statements on each dialect. @since 0.1.0 */
export interface Migration {
  readonly pg: (names: MigrationNames) => ReadonlyArray<string>
  readonly sqlite: (names: MigrationNames) => ReadonlyArray<string>
}

/** Migrations keyed `<id>_<name>` (e.g. `0001_create_executions`), applied in id order. @since 0.1.0 */
export type MigrationRecord = Readonly<Record<string, Migration>>

/** Every migration of this version. @since 0.1.0 */
export const MIGRATIONS: MigrationRecord = {
  "0001_create_executions": createExecutions,
  "0002_idempotency_keys": idempotencyKeys,
  "0003_attempts_and_query_indexes": attemptsAndQueryIndexes,
  "0004_trace_context": traceContext,
  "0005_schedules": schedules
}

const KEY = /^(\d+)_([A-Za-z0-9_]+)$/

/** The record's migrations in id order; a malformed or repeated id is a defect of the record. */
const ordered = (record: MigrationRecord) => {
  const steps = Object.entries(record).map(([key, migration]) => {
    const match = KEY.exec(key)
    if (match === null) throw new Error(`migration key ${JSON.stringify(key)} is not <id>_<name>`)
    return { id: Number(match[1]), name: match[2]!, migration }
  }).sort((a, b) => a.id - b.id)
  steps.forEach((s, i) => {
    if (s.id < 1 || (i > 0 && steps[i - 1]!.id === s.id)) {
      throw new Error(`migration id ${s.id} is not unique and positive`)
    }
  })
  return steps
}

/**
 * Applies the record's migrations that a database lacks, each once, and records them in the
 * migrations table. Processes that start at once take turns: Postgres through an advisory lock held
 * for the migration's transaction, SQLite through its write lock (`BEGIN IMMEDIATE`).
 *
 * This is not `@effect/sql`'s `Migrator`: on Postgres it checks for its migrations table
 * (`select … ::regclass`) and creates it (a plain `CREATE TABLE`) before taking any lock, so two
 * processes starting at once on a new database both try to create it, and one fails at start-up;
 * it also has no place for creating the storage's schema first.
 *
 * @since 0.1.0
 */
export const migrate = (
  sql: SqlClient.SqlClient,
  dialect: "pg" | "sqlite",
  names: SqlNames,
  record: MigrationRecord = MIGRATIONS
): Effect.Effect<void, StorageError> =>
  Effect.gen(function*() {
    const steps = ordered(record)
    const ddlNames: MigrationNames = {
      table: names.table,
      index: (suffix) => `"${names.indexBase}_${suffix}"`,
      schedulesTable: names.schedulesTable
    }
    const migrations = sql.literal(names.migrationsTable)
    const exec = <A>(statement: Effect.Effect<A, unknown>) => run("migrate", statement as Effect.Effect<A, never>)
    const body = Effect.gen(function*() {
      if (dialect === "pg") {
        yield* exec(sql`SELECT pg_advisory_xact_lock(${names.lockKey}::bigint)`)
        if (names.schema !== undefined) {
          yield* exec(sql`CREATE SCHEMA IF NOT EXISTS ${sql.literal(`"${names.schema}"`)}`)
        }
      }
      yield* exec(
        sql`CREATE TABLE IF NOT EXISTS ${migrations}
          (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`
      )
      const applied = yield* exec(sql`SELECT version FROM ${migrations}`)
      const done = new Set(applied.map((r) => Number(r.version)))
      for (const step of steps) {
        if (done.has(step.id)) continue
        for (const statement of step.migration[dialect](ddlNames)) yield* exec(sql.unsafe(statement))
        const nowMs = yield* Clock.currentTimeMillis
        const name = step.name.replace(/_/g, " ")
        yield* exec(sql`INSERT INTO ${migrations} (version, name, applied_at) VALUES (${step.id}, ${name}, ${nowMs})`)
      }
    })
    const inTransaction = dialect === "pg" ? sql.withTransaction(body) : withImmediateTransaction(sql)(body)
    yield* Effect.mapError(inTransaction, (e) => (e instanceof StorageError ? e : toStorageError("migrate")(e)))
  })
