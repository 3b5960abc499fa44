/**
 * Waiting for another process's SQLite write lock without blocking the event loop. SQLite's busy
 * timeout waits synchronously (better-sqlite3 runs statements on the main thread, which sleeps
 * inside SQLite), so the connection's own timeout is kept to a few milliseconds
 * ({@link SYNC_BUSY_TIMEOUT_MS}) and a statement that still finds the database locked is tried again
 * on Effect's scheduler: capped exponential delays with jitter, until `busyTimeoutMs` has passed.
 * Then it fails with an error that names the file and the timeout, and that is not transient (a
 * caller that retries transient conflicts does not wait another `busyTimeoutMs`).
 *
 * @since 0.1.0
 */
import type { Connection } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"

/** The connection's synchronous busy timeout: the longest one attempt blocks the thread. @since 0.1.0 */
export const SYNC_BUSY_TIMEOUT_MS = 5

/** How long a writer waits for the lock by default. @since 0.1.0 */
export const DEFAULT_BUSY_TIMEOUT_MS = 5_000

/** How a storage waits for the write lock. @since 0.1.0 @category models */
export interface BusySettings {
  /** Total wait for the lock, across the asynchronous retries. */
  readonly busyTimeoutMs: number
  /** The database file, for messages. */
  readonly filename: string | undefined
}

/**
 * The busy settings of the SQLite client in context (provided by `SqliteStorage.layerClient`); the
 * `BEGIN IMMEDIATE` of a transaction reads them. Without them: 5000 ms, no file name.
 *
 * @since 0.1.0
 * @category tags
 */
export class Busy extends Context.Reference<Busy>()("durable-tasks/SqliteBusy", {
  defaultValue: (): BusySettings => ({ busyTimeoutMs: DEFAULT_BUSY_TIMEOUT_MS, filename: undefined })
}) {}

/** The lock was held by another process for longer than `busyTimeoutMs`. @since 0.1.0 @category errors */
export class LockWaitTimeout extends Data.TaggedError("LockWaitTimeout")<{
  readonly message: string
  readonly cause: unknown
}> {
  /** Not one of SQLite's busy codes: nobody retries it again. */
  readonly code = "DURABLE_TASKS_LOCK_WAIT_TIMEOUT"
}

const BUSY_CODES: ReadonlySet<string> = new Set(["SQLITE_BUSY", "SQLITE_BUSY_RECOVERY", "SQLITE_BUSY_TIMEOUT"])

/** True when `error` (or one of its causes) is SQLite's "database is locked". @since 0.1.0 */
export const isBusy = (error: unknown): boolean => {
  let current = error
  for (let depth = 0; depth < 4 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { readonly code?: unknown }).code
    if (typeof code === "string") return BUSY_CODES.has(code)
    current = (current as { readonly cause?: unknown }).cause
  }
  return false
}

const retrySchedule = (busyTimeoutMs: number) =>
  Schedule.exponential(Duration.millis(2), 1.5).pipe(
    Schedule.union(Schedule.spaced(Duration.millis(50))),
    Schedule.jittered,
    Schedule.upTo(Duration.millis(busyTimeoutMs))
  )

/** The error after the last attempt: what was locked, for how long. @since 0.1.0 */
export const lockWaitTimeout = (settings: BusySettings, cause: unknown): LockWaitTimeout =>
  new LockWaitTimeout({
    message: `${settings.filename === undefined ? "the database" : `"${settings.filename}"`} stayed locked by ` +
      `another process for longer than busyTimeoutMs (${settings.busyTimeoutMs} ms)`,
    cause
  })

/**
 * Runs `self`, and while it fails because the database is locked, runs it again after a short,
 * jittered delay (a few ms, growing to 50 ms), for up to `busyTimeoutMs`; then fails with
 * `onTimeout` of a {@link LockWaitTimeout}.
 *
 * @since 0.1.0
 */
export const retryWhileBusy = <A, E, R, E2>(
  self: Effect.Effect<A, E, R>,
  settings: BusySettings,
  onTimeout: (timeout: LockWaitTimeout) => E2
): Effect.Effect<A, E | E2, R> =>
  self.pipe(
    Effect.retry({ schedule: retrySchedule(settings.busyTimeoutMs), while: isBusy }),
    Effect.catchIf(isBusy, (e) => Effect.fail(onTimeout(lockWaitTimeout(settings, e))))
  )

/** A driver error thrown instead of returned (better-sqlite3's `prepare`) becomes a failure. */
const thrownToFailure = (defect: unknown) =>
  defect instanceof Error && typeof (defect as { readonly code?: unknown }).code === "string"
    ? Effect.fail(new SqlError({ cause: defect, message: "Failed to execute statement" }))
    : Effect.die(defect)

/**
 * `BEGIN IMMEDIATE` on `conn`, waiting for another process's write lock as above (with the
 * {@link Busy} settings in context).
 *
 * @since 0.1.0
 */
export const beginImmediate = (conn: Connection): Effect.Effect<void, SqlError> =>
  Effect.flatMap(Busy, (settings) =>
    retryWhileBusy(
      Effect.suspend(() => conn.executeUnprepared("BEGIN IMMEDIATE", [], undefined)).pipe(
        Effect.catchAllDefect(thrownToFailure),
        Effect.asVoid
      ),
      settings,
      (cause) => new SqlError({ cause, message: "could not take the SQLite write lock" })
    ))
