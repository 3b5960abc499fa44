/**
 * SQLite storage: the embedded default. One file, WAL journal, writers serialized (one connection
 * per process, `BEGIN IMMEDIATE` across processes, waiting up to a busy timeout). Work survives
 * `kill -9`: a restarted executor claims again what a dead one held once its leases lapse.
 * Wake-ups are in-process; other processes on the same file notice work by polling.
 *
 * @since 0.1.0
 */
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as fs from "node:fs"
import * as path from "node:path"
import { StorageError } from "./EngineError.js"
import { toStorageError } from "./internal/sql/SqlCommon.js"
import type { Signals } from "./Signals.js"
import * as SignalsModule from "./Signals.js"
import * as SqlStorage from "./SqlStorage.js"
import type { TaskStorage } from "./TaskStorage.js"

/** @since 0.1.0 @category models */
export interface Options extends Omit<SqlStorage.Options, "schema"> {
  /** The database file, created (with its directory) when missing. `":memory:"` keeps it in memory. */
  readonly filename: string
  /** How long a writer waits for another process's write lock before failing. Default 5000 ms. */
  readonly busyTimeoutMs?: number | undefined
  /**
   * `"full"` (default) syncs the WAL at every commit: a commit survives a power loss. `"normal"`
   * syncs at checkpoints only: faster, and a commit still survives a process crash (`kill -9`).
   */
  readonly synchronous?: "full" | "normal" | undefined
}

/** Checks options; returns a message naming the first bad field, or undefined. @since 0.1.0 @category validation */
export const validate = (options: Options): string | undefined => {
  if (options === null || typeof options !== "object") return "options must be an object with a filename"
  if (typeof options.filename !== "string" || options.filename.length === 0) {
    return `filename must be a non-empty string, got ${JSON.stringify(options.filename)}`
  }
  const busy = options.busyTimeoutMs
  if (busy !== undefined && (!Number.isInteger(busy) || busy < 0 || busy > 3_600_000)) {
    return `busyTimeoutMs must be an integer from 0 to 3600000, got ${String(busy)}`
  }
  if (options.synchronous !== undefined && options.synchronous !== "full" && options.synchronous !== "normal") {
    return `synchronous must be "full" or "normal", got ${JSON.stringify(options.synchronous)}`
  }
  return SqlStorage.validate(options)
}

/**
 * A SQLite client on `filename` (WAL, busy timeout, synchronous level set), its directory created.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerClient = (options: Options): Layer.Layer<SqliteClient.SqliteClient | SqlClient.SqlClient, StorageError> => {
  const problem = validate(options)
  if (problem !== undefined) {
    return Layer.fail(new StorageError({ op: "configure", message: `invalid SQLite storage options: ${problem}` }))
  }
  const prepare = Effect.try({
    try: () => {
      if (options.filename !== ":memory:") fs.mkdirSync(path.dirname(path.resolve(options.filename)), { recursive: true })
    },
    catch: toStorageError("open")
  })
  const pragmas = Layer.effectDiscard(Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql.unsafe(`PRAGMA busy_timeout = ${options.busyTimeoutMs ?? 5_000}`)
    yield* sql.unsafe(`PRAGMA synchronous = ${(options.synchronous ?? "full").toUpperCase()}`)
  }).pipe(Effect.mapError(toStorageError("open"))))
  const client = SqliteClient.layer({ filename: options.filename }).pipe(Layer.mapError(toStorageError("open")))
  return Layer.provideMerge(pragmas, client).pipe(Layer.provide(Layer.effectDiscard(prepare)))
}

/**
 * `TaskStorage` and in-process `Signals` on a SQLite file.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<TaskStorage | Signals, StorageError> =>
  Layer.merge(SqlStorage.layer(options).pipe(Layer.provide(layerClient(options))), SignalsModule.layerMemory)
