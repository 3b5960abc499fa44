/**
 * Durable storage on `@effect/sql`: one implementation with two dialects, SQLite (the embedded
 * default) and Postgres (many executor processes on many machines). It applies the same planner
 * steps as the memory backend, through {@link StorageDriver.make}; only row access differs.
 *
 * - A table per storage (`<tablePrefix>executions`), one row per execution, one column per field;
 *   values are JSON text, times integer milliseconds (passed in by the engine, never SQL `now()`).
 * - Migrations run at start-up, idempotent, serialized across processes that start at once
 *   (a Postgres advisory lock; SQLite's write lock).
 * - Every value is a bound parameter; table prefix and schema are validated identifiers.
 *
 * {@link layer} works over any `SqlClient`, so an Effect app reuses its own client and can enqueue
 * inside its own transaction. `SqliteStorage` and `PgStorage` build the client too.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { StorageError } from "./EngineError.js"
import * as Migrations from "./internal/sql/Migrations.js"
import * as SqlBackend from "./internal/sql/SqlBackend.js"
import { type SqlNames, sqlNames } from "./internal/sql/SqlCommon.js"
import * as SqlSchedules from "./internal/sql/SqlSchedules.js"
import { ScheduleStorage } from "./ScheduleStorage.js"
import * as StorageDriver from "./StorageDriver.js"
import { TaskStorage } from "./TaskStorage.js"

/** @since 0.1.0 @category models */
export interface Options {
  /**
   * Prefix of the storage's table and index names: up to 24 letters, digits and underscores,
   * not starting with a digit. Default `"durable_tasks_"`. Storages with different prefixes share a
   * database without seeing each other.
   */
  readonly tablePrefix?: string | undefined
  /**
   * Postgres only: the schema of the tables, created when missing. Up to 30 letters, digits and
   * underscores, not starting with a digit. Default: the connection's `search_path` (usually `public`).
   */
  readonly schema?: string | undefined
}

/** The SQL dialects this storage speaks. @since 0.1.0 @category models */
export type Dialect = "pg" | "sqlite"

/** The default table prefix. @since 0.1.0 @category constants */
export const DEFAULT_TABLE_PREFIX = "durable_tasks_"

const PREFIX = /^(?:[A-Za-z_][A-Za-z0-9_]{0,23})?$/
const SCHEMA = /^[A-Za-z_][A-Za-z0-9_]{0,29}$/

/**
 * Checks options; returns a message naming the first bad field, or undefined.
 *
 * @since 0.1.0
 * @category validation
 */
export const validate = (options: Options): string | undefined => {
  const prefix = options.tablePrefix ?? DEFAULT_TABLE_PREFIX
  if (typeof prefix !== "string" || !PREFIX.test(prefix)) {
    return "tablePrefix must be up to 24 letters, digits or underscores, not starting with a digit; " +
      `got ${JSON.stringify(prefix)}`
  }
  if (options.schema !== undefined && (typeof options.schema !== "string" || !SCHEMA.test(options.schema))) {
    return "schema must be 1 to 30 letters, digits or underscores, not starting with a digit; " +
      `got ${JSON.stringify(options.schema)}`
  }
  return undefined
}

const namesOf = (options: Options): SqlNames =>
  sqlNames({ prefix: options.tablePrefix ?? DEFAULT_TABLE_PREFIX, schema: options.schema })

/**
 * The Postgres `LISTEN`/`NOTIFY` channel of a storage (its schema and table prefix), so that
 * storages sharing a database keep their wake-ups apart.
 *
 * @since 0.1.0
 * @category utils
 */
export const channelOf = (options: Options): string =>
  `${options.schema === undefined ? "" : `${options.schema}.`}${options.tablePrefix ?? DEFAULT_TABLE_PREFIX}signals`

/** The dialect of a client, or undefined for one this storage does not speak. @since 0.1.0 @category utils */
export const dialectOf = (sql: SqlClient.SqlClient): Dialect | undefined =>
  sql.onDialectOrElse({ pg: () => "pg" as const, sqlite: () => "sqlite" as const, orElse: () => undefined })

/**
 * Brings the tables and indexes up to this version's schema: applies each frozen migration a
 * database lacks, once. Processes that start at once take turns: Postgres through an advisory lock
 * held for the migration's transaction, SQLite through its write lock.
 *
 * @since 0.1.0
 * @category migrations
 */
export const migrate = (
  sql: SqlClient.SqlClient,
  dialect: Dialect,
  options: Options = {}
): Effect.Effect<void, StorageError> => Migrations.migrate(sql, dialect, namesOf(options))

/**
 * Builds the storage over the `SqlClient` in context: checks the options, detects the dialect,
 * runs the migrations. SQLite's group-commit fiber lives in the scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<TaskStorage["Type"], StorageError, SqlClient.SqlClient | Scope.Scope> =>
  Effect.map(makeBackend(options), StorageDriver.make)

/**
 * The storage and its schedules (`ScheduleStorage`, in the `<tablePrefix>schedules` table) over the
 * `SqlClient` in context.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeContext = (
  options: Options = {}
): Effect.Effect<Context.Context<TaskStorage | ScheduleStorage>, StorageError, SqlClient.SqlClient | Scope.Scope> =>
  Effect.gen(function*() {
    const storage = yield* make(options)
    const sql = (yield* SqlClient.SqlClient).withoutTransforms()
    const schedules = SqlSchedules.make(sql, namesOf(options), storage)
    return Context.make(TaskStorage, storage).pipe(Context.add(ScheduleStorage, schedules))
  })

/**
 * The storage backend over the `SqlClient` in context, before {@link StorageDriver.make} turns it
 * into the port (the simulation observes every write of it): checks the options, detects the
 * dialect, runs the migrations.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeBackend = (
  options: Options = {}
): Effect.Effect<StorageDriver.Backend, StorageError, SqlClient.SqlClient | Scope.Scope> =>
  Effect.gen(function*() {
    const problem = validate(options)
    if (problem !== undefined) {
      return yield* new StorageError({ op: "configure", message: `invalid SQL storage options: ${problem}` })
    }
    // Our own column names: a client's name transforms (camelCase…) must not apply.
    const sql = (yield* SqlClient.SqlClient).withoutTransforms()
    const dialect = dialectOf(sql)
    if (dialect === undefined) {
      const message = "the SQL storage supports Postgres and SQLite clients only"
      return yield* new StorageError({ op: "configure", message })
    }
    if (dialect === "sqlite" && options.schema !== undefined) {
      const message = "the schema option is for Postgres; SQLite uses tablePrefix"
      return yield* new StorageError({ op: "configure", message })
    }
    yield* migrate(sql, dialect, options)
    return yield* SqlBackend.make(sql, namesOf(options))
  })

/**
 * `TaskStorage` (and its `ScheduleStorage`) over the app's own `SqlClient` (Postgres or SQLite).
 * Pair it with `Signals`: `PgSignals.layer` for Postgres, `Signals.layerMemory` for SQLite.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<TaskStorage | ScheduleStorage, StorageError, SqlClient.SqlClient> =>
  Layer.scopedContext(makeContext(options))
