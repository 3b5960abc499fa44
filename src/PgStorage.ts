/**
 * Postgres storage: many executor processes, on one or many machines, share one database. Each
 * execution is claimed by one executor at a time (`FOR UPDATE SKIP LOCKED`), and wake-ups cross
 * processes through `LISTEN`/`NOTIFY` ({@link PgSignals}); polling is only the fallback.
 *
 * @since 0.1.0
 */
import * as PgClient from "@effect/sql-pg/PgClient"
import type * as SqlClient from "@effect/sql/SqlClient"
import * as Duration from "effect/Duration"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type { ConnectionOptions } from "node:tls"
import { StorageError } from "./EngineError.js"
import { toStorageError } from "./internal/sql/SqlCommon.js"
import * as PgSignals from "./PgSignals.js"
import type { Signals } from "./Signals.js"
import * as SqlStorage from "./SqlStorage.js"
import type { TaskStorage } from "./TaskStorage.js"

/** Where and how to connect: a connection string, or its parts. @since 0.1.0 @category models */
export interface ConnectOptions {
  /** `postgres://user:password@host:port/database`; the parts below override it. */
  readonly connectionString?: string | undefined
  readonly host?: string | undefined
  readonly port?: number | undefined
  readonly database?: string | undefined
  readonly user?: string | undefined
  readonly password?: string | undefined
  readonly ssl?: boolean | ConnectionOptions | undefined
  /** Largest pool size. Default 10. */
  readonly maxConnections?: number | undefined
  /** Connection timeout. Default 5000 ms. */
  readonly connectTimeoutMs?: number | undefined
  /** Shown in `pg_stat_activity`. Default `"durable-tasks"`. */
  readonly applicationName?: string | undefined
}

/** @since 0.1.0 @category models */
export interface Options extends ConnectOptions, SqlStorage.Options {}

/** Checks options; returns a message naming the first bad field, or undefined. @since 0.1.0 @category validation */
export const validate = (options: Options): string | undefined => {
  if (options === null || typeof options !== "object") return "options must be an object (connectionString or host, …)"
  if (options.connectionString === undefined && options.host === undefined) return "give a connectionString or a host"
  if (options.connectionString !== undefined && (typeof options.connectionString !== "string" || options.connectionString === "")) {
    return "connectionString must be a non-empty string"
  }
  const max = options.maxConnections
  if (max !== undefined && (!Number.isInteger(max) || max < 1 || max > 1_000)) {
    return `maxConnections must be an integer from 1 to 1000, got ${String(max)}`
  }
  const timeout = options.connectTimeoutMs
  if (timeout !== undefined && (!Number.isInteger(timeout) || timeout < 1)) {
    return `connectTimeoutMs must be a positive integer, got ${String(timeout)}`
  }
  return SqlStorage.validate(options)
}

/** A Postgres client (pool) for these options. @since 0.1.0 @category layers */
export const layerClient = (options: Options): Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, StorageError> => {
  const problem = validate(options)
  if (problem !== undefined) {
    return Layer.fail(new StorageError({ op: "configure", message: `invalid Postgres storage options: ${problem}` }))
  }
  return PgClient.layer({
    url: options.connectionString === undefined ? undefined : Redacted.make(options.connectionString),
    host: options.host,
    port: options.port,
    database: options.database,
    username: options.user,
    password: options.password === undefined ? undefined : Redacted.make(options.password),
    ssl: options.ssl,
    maxConnections: options.maxConnections,
    connectTimeout: options.connectTimeoutMs === undefined ? undefined : Duration.millis(options.connectTimeoutMs),
    applicationName: options.applicationName ?? "durable-tasks"
  }).pipe(Layer.mapError(toStorageError("connect")))
}

/**
 * `TaskStorage` and cross-process `Signals` over the `PgClient` in context: for an Effect app
 * that builds its own client.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFromClient = (
  options: SqlStorage.Options = {}
): Layer.Layer<TaskStorage | Signals, StorageError, PgClient.PgClient | SqlClient.SqlClient> =>
  Layer.merge(SqlStorage.layer(options), PgSignals.layer({ channel: SqlStorage.channelOf(options) }))

/**
 * `TaskStorage` and cross-process `Signals` on a Postgres database (its own pool).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<TaskStorage | Signals, StorageError> =>
  layerFromClient({ tablePrefix: options.tablePrefix, schema: options.schema }).pipe(Layer.provide(layerClient(options)))
