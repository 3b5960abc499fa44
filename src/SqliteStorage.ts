/**
 * SQLite storage: the embedded default. One file, WAL journal, writers serialized (one connection
 * per process, `BEGIN IMMEDIATE` across processes). A writer that finds another process holding the
 * write lock waits for it without blocking the event loop (see `internal/sql/SqliteBusy`), up to
 * `busyTimeoutMs`. Work survives `kill -9`: a restarted executor claims again what a dead one held
 * once its leases lapse. Wake-ups are in-process; other processes on the same file notice work by
 * polling.
 *
 * A file that cannot be opened (not a database, read-only, a directory, a folder that cannot be
 * created) fails the layer with a {@link StorageError} naming the file and the cause.
 *
 * @since 0.1.0
 */
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as fs from "node:fs"
import * as path from "node:path"
import { StorageError } from "./EngineError.js"
import { describeValue, unknownKeyProblem } from "./internal/OptionKeys.js"
import { toStorageError } from "./internal/sql/SqlCommon.js"
import {
  Busy,
  type BusySettings,
  DEFAULT_BUSY_TIMEOUT_MS,
  LockWaitTimeout,
  retryWhileBusy,
  SYNC_BUSY_TIMEOUT_MS
} from "./internal/sql/SqliteBusy.js"
import { ScheduleStorage } from "./ScheduleStorage.js"
import type { Signals } from "./Signals.js"
import * as SignalsModule from "./Signals.js"
import * as SqlStorage from "./SqlStorage.js"
import { TaskStorage } from "./TaskStorage.js"

/** @since 0.1.0 @category models */
export interface Options extends Omit<SqlStorage.Options, "schema"> {
  /**
   * The database file (a path, not a `file:` URI), created (with its directory) when missing.
   * `":memory:"` keeps it in memory.
   */
  readonly filename: string
  /**
   * How long a writer waits for another process's write lock before failing with a storage error.
   * The wait does not block the event loop. Default 5000 ms.
   */
  readonly busyTimeoutMs?: number | undefined
  /**
   * `"full"` (default) syncs the WAL at every commit: a commit survives a power loss. `"normal"`
   * syncs at checkpoints only: faster, and a commit still survives a process crash (`kill -9`).
   */
  readonly synchronous?: "full" | "normal" | undefined
}

const KNOWN_KEYS: ReadonlyArray<keyof Options> = ["filename", "tablePrefix", "busyTimeoutMs", "synchronous"]

/** Checks options; returns a message naming the first bad field, or undefined. @since 0.1.0 @category validation */
export const validate = (options: Options): string | undefined => {
  if (options === null || typeof options !== "object") {
    return `options must be an object with a filename, got ${describeValue(options)}`
  }
  // "unknown option 'filname' (did you mean 'filename'?)"; callers put "invalid SQLite storage options" first.
  const unknown = unknownKeyProblem(options, KNOWN_KEYS, "")
  if (unknown !== undefined) return unknown.slice(2)
  if (typeof options.filename !== "string" || options.filename.length === 0) {
    return `filename must be a non-empty string, got ${describeValue(options.filename)}`
  }
  if (/^file:/i.test(options.filename)) {
    return `filename must be a path, not a file: URI (got ${JSON.stringify(options.filename)}); ` +
      "URI parameters are not supported: pass the path (url.fileURLToPath turns a file URL into one)"
  }
  if (options.filename.includes("\0")) return "filename must not contain a NUL character"
  const busy = options.busyTimeoutMs
  if (busy !== undefined && (typeof busy !== "number" || !Number.isInteger(busy) || busy < 0 || busy > 3_600_000)) {
    return `busyTimeoutMs must be an integer from 0 to 3600000, got ${describeValue(busy)}`
  }
  if (options.synchronous !== undefined && options.synchronous !== "full" && options.synchronous !== "normal") {
    return `synchronous must be "full" or "normal", got ${describeValue(options.synchronous)}`
  }
  return SqlStorage.validate(options)
}

/** A storage error that names the file: "SQLite storage "/abs/app.db": cannot open: …". */
const openError = (filename: string, problem: string, cause?: unknown): StorageError =>
  new StorageError({ op: "open", message: `SQLite storage ${JSON.stringify(filename)}: ${problem}`, cause })

/** The innermost cause's message and code ("file is not a database (SQLITE_NOTADB)"); a lock wait's own message. */
const describeError = (error: unknown): string => {
  let root = error
  for (let depth = 0; depth < 4 && !(root instanceof LockWaitTimeout); depth++) {
    const cause = typeof root === "object" && root !== null ? (root as { readonly cause?: unknown }).cause : undefined
    if (cause === undefined || cause === null) break
    root = cause
  }
  const code = typeof root === "object" && root !== null ? (root as { readonly code?: unknown }).code : undefined
  return `${root instanceof Error ? root.message : String(root)}${typeof code === "string" ? ` (${code})` : ""}`
}

/**
 * Why `filename` cannot be opened for writing, before SQLite tries (its own message for these is
 * "unable to open database file"), or undefined. Creates the file's directory when missing.
 */
const problemBeforeOpen = (filename: string): string | undefined => {
  const dir = path.dirname(filename)
  try {
    fs.mkdirSync(dir, { recursive: true })
  } catch (e) {
    return `cannot create its folder ${JSON.stringify(dir)}: ${describeError(e)}`
  }
  const stat = fs.statSync(filename, { throwIfNoEntry: false })
  if (stat?.isDirectory() === true) return "cannot open: it is a directory, not a database file"
  try {
    fs.accessSync(stat === undefined ? dir : filename, fs.constants.W_OK)
  } catch (e) {
    const what = stat === undefined ? `its folder ${JSON.stringify(dir)} is read-only` : "the file is read-only"
    return `cannot open for writing: ${what}: ${describeError(e)}`
  }
  return undefined
}

/**
 * A SQLite client on `filename` (WAL, a short synchronous busy timeout, synchronous level set), its
 * directory created, and the {@link Busy} settings its transactions wait for the write lock with.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerClient = (
  options: Options
): Layer.Layer<SqliteClient.SqliteClient | SqlClient.SqlClient | Busy, StorageError> => {
  const problem = validate(options)
  if (problem !== undefined) {
    return Layer.fail(new StorageError({ op: "configure", message: `invalid SQLite storage options: ${problem}` }))
  }
  const filename = options.filename === ":memory:" ? ":memory:" : path.resolve(options.filename)
  const settings: BusySettings = { busyTimeoutMs: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS, filename }
  const prepare = Effect.suspend(() => {
    const before = filename === ":memory:" ? undefined : problemBeforeOpen(filename)
    return before === undefined ? Effect.void : Effect.fail(openError(filename, before))
  })
  // Our busy timeout is set before the first statement that may wait for a lock (WAL needs one
  // when it is switched on), so the client's own WAL switch (with better-sqlite3's 5 s timeout) is off.
  const pragmas = Layer.effectDiscard(
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql.unsafe(`PRAGMA busy_timeout = ${Math.min(SYNC_BUSY_TIMEOUT_MS, settings.busyTimeoutMs)}`)
      yield* retryWhileBusy(sql.unsafe("PRAGMA journal_mode = WAL"), settings, (timeout) => timeout)
      yield* sql.unsafe(`PRAGMA synchronous = ${(options.synchronous ?? "full").toUpperCase()}`)
    }).pipe(Effect.mapError((e) => openError(filename, `cannot open: ${describeError(e)}`, e)))
  )
  // better-sqlite3 throws from its constructor (a defect in @effect/sql-sqlite-node): a failure here.
  const client = SqliteClient.layer({ filename, disableWAL: true }).pipe(
    Layer.catchAllCause((cause) => {
      const failure = (e: unknown) => openError(filename, `cannot open: ${describeError(e)}`, e)
      return Cause.isInterruptedOnly(cause)
        ? Layer.failCause(Cause.map(cause, failure))
        : Layer.fail(failure(Cause.squash(cause)))
    })
  )
  return Layer.mergeAll(Layer.provideMerge(pragmas, client), Layer.succeed(Busy, settings)).pipe(
    Layer.provide(Layer.effectDiscard(prepare))
  )
}

/** A storage error raised while the storage starts (a migration), with the file named. */
const nameTheFile = (filename: string) => (e: StorageError): StorageError =>
  e.op === "open" || e.op === "configure" ? e : openError(filename, e.message, e.cause)

/**
 * The storage's reads, tried again while the database is locked (in WAL mode only a rare recovery
 * of the WAL index makes a read wait): they wait without blocking the event loop too.
 */
const readsWaitingForLocks = (storage: TaskStorage["Type"], settings: BusySettings): TaskStorage["Type"] => {
  const onTimeout = (op: string) => toStorageError(op)
  return {
    ...storage,
    get: (id) => retryWhileBusy(storage.get(id), settings, onTimeout("get")),
    getMany: (ids) => retryWhileBusy(storage.getMany(ids), settings, onTimeout("getMany")),
    list: (query) => retryWhileBusy(storage.list(query), settings, onTimeout("list")),
    nextWake: (taskIds) => retryWhileBusy(storage.nextWake(taskIds), settings, onTimeout("nextWake")),
    listPage: (query) => retryWhileBusy(storage.listPage(query), settings, onTimeout("listPage")),
    countBy: (by) => retryWhileBusy(storage.countBy(by), settings, onTimeout("countBy")),
    tree: (id) => retryWhileBusy(storage.tree(id), settings, onTimeout("tree"))
  }
}

/**
 * `TaskStorage` and in-process `Signals` on a SQLite file.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<TaskStorage | ScheduleStorage | Signals, StorageError> => {
  const filename = typeof options?.filename === "string" && options.filename !== ":memory:"
    ? path.resolve(options.filename)
    : ":memory:"
  const storage = Layer.merge(
    Layer.effect(TaskStorage, Effect.zipWith(TaskStorage, Busy, readsWaitingForLocks)),
    Layer.service(ScheduleStorage)
  ).pipe(Layer.provide(Layer.merge(SqlStorage.layer(options), Layer.service(Busy))))
  return Layer.merge(
    storage.pipe(Layer.provide(layerClient(options)), Layer.mapError(nameTheFile(filename))),
    SignalsModule.layerMemory
  )
}
