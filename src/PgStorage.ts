/**
 * Postgres storage: many executor processes, on one or many machines, share one database. Each
 * execution is claimed by one executor at a time (`FOR UPDATE SKIP LOCKED`), and wake-ups cross
 * processes through `LISTEN`/`NOTIFY` ({@link PgSignals}); polling is only the fallback. A server
 * that is unreachable at start-up (restarting) is tried again for up to `connectRetryMs`.
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
import { describeValue, unknownKeyProblem } from "./internal/OptionKeys.js"
import * as PgConnect from "./internal/PgConnect.js"
import * as PgSignals from "./PgSignals.js"
import type { ScheduleStorage } from "./ScheduleStorage.js"
import type { Signals } from "./Signals.js"
import * as SqlStorage from "./SqlStorage.js"
import type { TaskStorage } from "./TaskStorage.js"

/** Where and how to connect: a connection string, or its parts. @since 0.1.0 @category models */
export interface ConnectOptions {
  /**
   * `postgres://user:password@host:port/database` (or `postgresql://`). Given both, the connection
   * string's values win over the parts below (the `pg` driver's rule).
   */
  readonly connectionString?: string | undefined
  readonly host?: string | undefined
  readonly port?: number | undefined
  readonly database?: string | undefined
  readonly user?: string | undefined
  readonly password?: string | undefined
  readonly ssl?: boolean | ConnectionOptions | undefined
  /** Largest pool size. Default 10. */
  readonly maxConnections?: number | undefined
  /** Timeout of one connection attempt. Default 5000 ms. */
  readonly connectTimeoutMs?: number | undefined
  /**
   * How long start-up keeps trying to reach a server that is unreachable (refused, not found, timed
   * out, still starting): attempts with growing delays (0.1 s up to 2 s, jittered), each logged as a
   * warning, until this much time has passed since the first failure; then start-up fails with a
   * storage error naming the server. 0: fail at the first attempt. Default 30000 ms.
   */
  readonly connectRetryMs?: number | undefined
  /** Shown in `pg_stat_activity`. Default `"durable-tasks"`. */
  readonly applicationName?: string | undefined
}

/** @since 0.1.0 @category models */
export interface Options extends ConnectOptions, SqlStorage.Options {}

/** How long start-up retries an unreachable server by default. @since 0.1.0 @category constants */
export const DEFAULT_CONNECT_RETRY_MS = 30_000

const KNOWN_KEYS: ReadonlyArray<keyof Options> = [
  "connectionString",
  "host",
  "port",
  "database",
  "user",
  "password",
  "ssl",
  "maxConnections",
  "connectTimeoutMs",
  "connectRetryMs",
  "applicationName",
  "schema",
  "tablePrefix"
]

const isIntegerIn = (value: unknown, min: number, max: number): boolean =>
  typeof value === "number" && Number.isInteger(value) && value >= min && value <= max

const optionalString = (options: Options, key: "host" | "database" | "user" | "password" | "applicationName") => {
  const value = options[key]
  return value === undefined || typeof value === "string"
    ? undefined
    : `${key} must be a string, got ${describeValue(value)}`
}

/** Why a connection string cannot be used, or undefined. Its text is never echoed: it may hold a password. */
const connectionStringProblem = (value: unknown): string | undefined => {
  if (typeof value !== "string" || value === "") {
    return `connectionString must be a non-empty string, got ${describeValue(value)}`
  }
  const usage = "give postgres://user:password@host:port/database (or postgresql://)"
  if (!URL.canParse(value)) {
    return `connectionString is not a postgres:// URL: ${usage}, with special characters in the user name ` +
      "and password percent-encoded"
  }
  const protocol = new URL(value).protocol
  if (protocol !== "postgres:" && protocol !== "postgresql:") {
    return `connectionString is not a postgres:// URL (it starts with ${JSON.stringify(protocol)}): ${usage}`
  }
  return undefined
}

/** Checks options; returns a message naming the first bad field, or undefined. @since 0.1.0 @category validation */
export const validate = (options: Options): string | undefined => {
  if (options === null || typeof options !== "object") {
    return `options must be an object (connectionString or host, …), got ${describeValue(options)}`
  }
  // "unknown option 'conectionString' (did you mean …?)"; callers put "invalid Postgres storage options" first.
  const unknown = unknownKeyProblem(options, KNOWN_KEYS, "")
  if (unknown !== undefined) return unknown.slice(2)
  if (options.connectionString === undefined && options.host === undefined) return "give a connectionString or a host"
  if (options.connectionString !== undefined) {
    const problem = connectionStringProblem(options.connectionString)
    if (problem !== undefined) return problem
  }
  for (const key of ["host", "database", "user", "password", "applicationName"] as const) {
    const problem = optionalString(options, key)
    if (problem !== undefined) return problem
  }
  if (options.port !== undefined && !isIntegerIn(options.port, 1, 65_535)) {
    return `port must be an integer from 1 to 65535, got ${describeValue(options.port)}`
  }
  if (options.maxConnections !== undefined && !isIntegerIn(options.maxConnections, 1, 1_000)) {
    return `maxConnections must be an integer from 1 to 1000, got ${describeValue(options.maxConnections)}`
  }
  if (options.connectTimeoutMs !== undefined && !isIntegerIn(options.connectTimeoutMs, 1, 3_600_000)) {
    return `connectTimeoutMs must be an integer from 1 to 3600000, got ${describeValue(options.connectTimeoutMs)}`
  }
  if (options.connectRetryMs !== undefined && !isIntegerIn(options.connectRetryMs, 0, 3_600_000)) {
    return `connectRetryMs must be an integer from 0 to 3600000, got ${describeValue(options.connectRetryMs)}`
  }
  return SqlStorage.validate(options)
}

/** `host:port/database` of the server these options reach (as the `pg` driver resolves them), without credentials. */
export const serverOf = (options: ConnectOptions): string => {
  const url = options.connectionString !== undefined && URL.canParse(options.connectionString)
    ? new URL(options.connectionString)
    : undefined
  const host = url?.searchParams.get("host") ?? (url?.hostname || undefined) ?? options.host ?? "localhost"
  const port = (url?.port || undefined) ?? options.port ?? 5432
  const database = (url === undefined ? undefined : decodeURIComponent(url.pathname.slice(1)) || undefined) ??
    options.database
  return `${host}:${port}${database === undefined ? "" : `/${database}`}`
}

/** The layer that opens the pool (it runs `SELECT 1`), as @effect/sql-pg builds it. */
const poolLayer = (options: Options) =>
  PgClient.layer({
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
  })

/**
 * A Postgres client (pool) for these options. While the server is unreachable, start-up tries
 * again (logging each failure) for up to `connectRetryMs`; see {@link ConnectOptions.connectRetryMs}.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerClient = (options: Options): Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, StorageError> => {
  const problem = validate(options)
  if (problem !== undefined) {
    return Layer.fail(new StorageError({ op: "configure", message: `invalid Postgres storage options: ${problem}` }))
  }
  const server = serverOf(options)
  const retryMs = options.connectRetryMs ?? DEFAULT_CONNECT_RETRY_MS
  return poolLayer(options).pipe(
    Layer.retry(PgConnect.reconnectSchedule(server, retryMs)),
    Layer.mapError((e) => PgConnect.connectError(server, retryMs, e))
  )
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
): Layer.Layer<TaskStorage | ScheduleStorage | Signals, StorageError, PgClient.PgClient | SqlClient.SqlClient> =>
  Layer.merge(SqlStorage.layer(options), PgSignals.layer({ channel: SqlStorage.channelOf(options) }))

/**
 * `TaskStorage` and cross-process `Signals` on a Postgres database (its own pool).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<TaskStorage | ScheduleStorage | Signals, StorageError> =>
  layerFromClient({ tablePrefix: options.tablePrefix, schema: options.schema }).pipe(
    Layer.provide(layerClient(options))
  )
