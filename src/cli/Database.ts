/**
 * Where the CLI (and the dashboard) find the stored executions: `--db sqlite:PATH`,
 * `--db postgres://user:password@host:port/database`, or the `DURABLE_TASKS_DB` environment
 * variable with the same text. {@link layerClient} opens the storage and gives the engine's client
 * operations over it ({@link Client}) without any task definition: values are shown as stored.
 *
 * Opening refuses a SQLite file that does not exist and a database without the storage's tables, so
 * that a mistyped `--db` never creates an empty database. A database of an older version of this
 * package is migrated, as an executor starting on it would.
 *
 * @since 0.1.0
 */
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as fs from "node:fs"
import * as path from "node:path"
import { type ClientService, makeClient } from "../DurableExecutor.js"
import * as ExecutorConfig from "../ExecutorConfig.js"
import * as Ids from "../Ids.js"
import * as PgStorage from "../PgStorage.js"
import * as Registry from "../Registry.js"
import type { ScheduleStorage } from "../ScheduleStorage.js"
import type { Signals } from "../Signals.js"
import * as SqliteStorage from "../SqliteStorage.js"
import * as SqlStorage from "../SqlStorage.js"
import type { TaskStorage } from "../TaskStorage.js"
import { type CliError, failure, oneLine, usage } from "./CliError.js"

/** The environment variable read when `--db` is not given. @since 0.1.0 @category constants */
export const ENV_VAR = "DURABLE_TASKS_DB"

/** A parsed `--db`. @since 0.1.0 @category models */
export type DatabaseSpec =
  | { readonly _tag: "sqlite"; readonly filename: string }
  | { readonly _tag: "postgres"; readonly connectionString: string }

/**
 * Table prefix and Postgres schema of the storage (as the app's executor was given them).
 *
 * @since 0.1.0
 * @category models
 */
export interface StorageOptions {
  readonly tablePrefix?: string | undefined
  readonly schema?: string | undefined
}

const HELP = `give --db sqlite:PATH or --db postgres://user:password@host:port/database (or set ${ENV_VAR})`

/**
 * Parses `--db` text; a relative SQLite path is resolved against `cwd`. A connection string is never
 * echoed in an error: it may hold a password.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (text: string | undefined, cwd: string = process.cwd()): Either.Either<DatabaseSpec, CliError> => {
  if (text === undefined || text.trim() === "") return Either.left(usage(`no database: ${HELP}`))
  if (text.startsWith("sqlite:")) {
    const file = text.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "")
    if (file === "") return Either.left(usage(`--db sqlite: needs a path: ${HELP}`))
    return Either.right({ _tag: "sqlite", filename: path.resolve(cwd, file) })
  }
  if (/^postgres(ql)?:\/\//.test(text)) {
    if (!URL.canParse(text)) {
      return Either.left(usage("--db is not a valid postgres:// URL (percent-encode special characters)"))
    }
    return Either.right({ _tag: "postgres", connectionString: text })
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1]
  return Either.left(
    usage(`--db ${scheme === undefined ? "has no scheme" : `scheme "${scheme}:" is unknown`}: ${HELP}`)
  )
}

/** `--db` if given, else `DURABLE_TASKS_DB`, parsed. @since 0.1.0 @category parsing */
export const resolve = (flag: string | undefined, env: NodeJS.ProcessEnv = process.env) => parse(flag ?? env[ENV_VAR])

/** Where a spec points, without credentials. @since 0.1.0 @category utils */
export const describe = (spec: DatabaseSpec): string =>
  spec._tag === "sqlite" ? `SQLite ${spec.filename}` : `Postgres ${PgStorage.serverOf(spec)}`

const storageFailure = (e: { readonly message: string }) => failure(oneLine(e.message))

/** The innermost cause's message (a SqlError's is generic: "Failed to execute statement"). */
const messageOf = (error: unknown): string => {
  let root = error
  for (let depth = 0; depth < 4; depth++) {
    const cause = typeof root === "object" && root !== null ? (root as { readonly cause?: unknown }).cause : undefined
    if (cause === undefined || cause === null) break
    root = cause
  }
  return root instanceof Error ? root.message : String(root)
}

const tableOf = (options: StorageOptions) => `${options.tablePrefix ?? SqlStorage.DEFAULT_TABLE_PREFIX}executions`

const missingTables = (spec: DatabaseSpec, options: StorageOptions) =>
  failure(`${describe(spec)} has no durable-tasks tables (no table ${tableOf(options)}): is --db right?`)

/** Opens the file read-only (nothing is written, not even a journal mode) to look for the table. */
const checkSqlite = (spec: DatabaseSpec & { _tag: "sqlite" }, options: StorageOptions) =>
  Effect.gen(function*() {
    const stat = fs.statSync(spec.filename, { throwIfNoEntry: false })
    if (stat === undefined) return yield* failure(`SQLite file ${spec.filename} does not exist`)
    if (!stat.isFile()) return yield* failure(`SQLite file ${spec.filename} is not a file`)
    const tables = yield* Effect.gen(function*() {
      const client = SqliteClient.layer({ filename: spec.filename, readonly: true, disableWAL: true })
      const sql = Context.get(yield* Layer.build(client), SqlClient.SqlClient)
      const rows = yield* sql<{ n: number }>`SELECT count(*) AS n FROM sqlite_master
        WHERE type = 'table' AND name = ${tableOf(options)}`
      return Number(rows[0]?.n ?? 0)
    }).pipe(
      Effect.scoped,
      Effect.catchAllCause((cause) =>
        Effect.fail(failure(oneLine(`SQLite file ${spec.filename}: ${messageOf(Cause.squash(cause))}`)))
      )
    )
    if (tables === 0) return yield* missingTables(spec, options)
  })

const checkPostgres = (spec: DatabaseSpec, options: StorageOptions) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const qualified = `${options.schema === undefined ? "" : `"${options.schema}".`}"${tableOf(options)}"`
    const rows = yield* sql<{ present: boolean }>`SELECT to_regclass(${qualified}) IS NOT NULL AS present`
    if (rows[0]?.present !== true) return yield* missingTables(spec, options)
  }).pipe(Effect.catchTag("SqlError", (e) => Effect.fail(failure(oneLine(e.message)))))

/**
 * The storage at `spec` (its tables checked first): `TaskStorage`, its schedules and its wake-ups
 * (Postgres: `NOTIFY`, so executors of other processes hear of a cancel at once).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStorage = (
  spec: DatabaseSpec,
  options: StorageOptions = {}
): Layer.Layer<TaskStorage | ScheduleStorage | Signals, CliError> => {
  if (spec._tag === "sqlite") {
    if (options.schema !== undefined) return Layer.fail(usage("--schema is for Postgres; SQLite has none"))
    return SqliteStorage.layer({ filename: spec.filename, tablePrefix: options.tablePrefix }).pipe(
      Layer.mapError(storageFailure),
      Layer.provide(Layer.effectDiscard(checkSqlite(spec, options)))
    )
  }
  const problem = SqlStorage.validate(options)
  if (problem !== undefined) return Layer.fail(usage(problem))
  const client = PgStorage.layerClient({
    connectionString: spec.connectionString,
    connectRetryMs: 0,
    connectTimeoutMs: 10_000,
    maxConnections: 2,
    applicationName: "durable-tasks-cli"
  }).pipe(Layer.mapError(storageFailure))
  return PgStorage.layerFromClient(options).pipe(
    Layer.mapError(storageFailure),
    Layer.provide(Layer.effectDiscard(checkPostgres(spec, options))),
    Layer.provide(client)
  )
}

/**
 * The engine's client operations (get, cancel, listExecutions, countExecutions, getExecutionTree,
 * purgeExecutions, …) over stored data, with no task registered: inputs and outputs as stored.
 *
 * @since 0.1.0
 * @category tags
 */
export class Client extends Context.Tag("durable-tasks/cli/Client")<Client, ClientService>() {}

/** {@link Client} over the storage at `spec`. @since 0.1.0 @category layers */
export const layerClient = (spec: DatabaseSpec, options: StorageOptions = {}): Layer.Layer<Client, CliError> =>
  Layer.effect(Client, makeClient(Effect.succeed(false))).pipe(
    Layer.provide(Layer.mergeAll(
      layerStorage(spec, options),
      Layer.succeed(Registry.Registry, Registry.make()),
      Ids.layerRandom,
      ExecutorConfig.layer().pipe(Layer.orDie)
    ))
  )
