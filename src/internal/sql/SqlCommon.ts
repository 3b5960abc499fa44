/**
 * Helpers shared by the SQL dialects: running a statement with its errors mapped to
 * {@link StorageError}, decoding rows, and running a transaction with retries of transient
 * conflicts (Postgres deadlocks and serialization failures, SQLite busy errors).
 *
 * @since 0.1.0
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import { StorageError } from "../../EngineError.js"
import type { ExecutionRow } from "../../ExecutionRow.js"
import type * as StorageDriver from "../../StorageDriver.js"
import { decodeRows } from "./SqlRow.js"

/** Quoted and validated names of one storage's tables and indexes. @since 0.1.0 */
export interface SqlNames {
  /** The executions table, quoted (and schema-qualified when a schema is set). */
  readonly table: string
  /** The migrations table, quoted. */
  readonly migrationsTable: string
  /** Raw prefix for index names (`<prefix>executions`). */
  readonly indexBase: string
  /** The Postgres schema, raw, when one is set. */
  readonly schema: string | undefined
  /** A stable 52-bit key for the Postgres advisory lock that serializes migrations. */
  readonly lockKey: number
  /** The schedules table, quoted (and schema-qualified when a schema is set). */
  readonly schedulesTable: string
}

/** 52-bit FNV-1a hash: a stable advisory-lock key that fits a JS number. */
const lockKeyOf = (text: string): number => {
  let h = 0xcbf29ce484222325n
  for (let i = 0; i < text.length; i++) h = BigInt.asUintN(64, (h ^ BigInt(text.charCodeAt(i))) * 0x100000001b3n)
  return Number(h & 0xfffffffffffffn)
}

/**
 * The names of a storage with this table prefix and Postgres schema, both already validated
 * (`SqlStorage.validate`: plain identifiers), quoted.
 *
 * @since 0.1.0
 */
export const sqlNames = (args: { readonly prefix: string; readonly schema: string | undefined }): SqlNames => {
  const qualify = (name: string) => (args.schema === undefined ? `"${name}"` : `"${args.schema}"."${name}"`)
  return {
    table: qualify(`${args.prefix}executions`),
    migrationsTable: qualify(`${args.prefix}migrations`),
    indexBase: `${args.prefix}executions`,
    schema: args.schema,
    lockKey: lockKeyOf(`durable-tasks:${args.schema ?? ""}.${args.prefix}`),
    schedulesTable: qualify(`${args.prefix}schedules`)
  }
}

const codeOf = (e: unknown): string | undefined => {
  for (let c: unknown = e, depth = 0; c !== null && typeof c === "object" && depth < 5; depth++) {
    if ("code" in c && typeof c.code === "string") return c.code
    c = "cause" in c ? c.cause : undefined
  }
  return undefined
}

const messageOf = (e: unknown): string => {
  const parts: Array<string> = []
  for (let c: unknown = e, depth = 0; c !== null && c !== undefined && depth < 5; depth++) {
    if (typeof c === "object" && "message" in c && typeof c.message === "string" && c.message !== "") {
      parts.push(c.message)
    } else if (typeof c !== "object") parts.push(String(c))
    c = typeof c === "object" && "cause" in c ? c.cause : undefined
  }
  const code = codeOf(e)
  return parts.join(": ") + (code !== undefined ? ` (${code})` : "")
}

/** Maps a driver error to a {@link StorageError} for operation `op`. @since 0.1.0 */
export const toStorageError = (op: string) => (cause: unknown): StorageError =>
  new StorageError({ op, message: `storage ${op} failed: ${messageOf(cause)}`, cause })

const TRANSIENT = new Set([
  "40P01", // deadlock_detected
  "40001", // serialization_failure
  "55P03", // lock_not_available
  "SQLITE_BUSY",
  "SQLITE_BUSY_SNAPSHOT",
  "SQLITE_BUSY_RECOVERY",
  "SQLITE_LOCKED"
])

/** True for conflicts that succeed when the whole transaction is tried again. @since 0.1.0 */
export const isTransient = (e: unknown): boolean => {
  const code = codeOf(e)
  return code !== undefined && TRANSIENT.has(code)
}

/** Runs a statement, mapping its errors. @since 0.1.0 */
export const run = <A>(op: string, statement: Effect.Effect<A, SqlError>): Effect.Effect<A, StorageError> =>
  Effect.mapError(statement, toStorageError(op))

/** Runs a statement and decodes its rows with Schema. @since 0.1.0 */
export const rows = (
  dialect: "pg" | "sqlite",
  op: string,
  statement: Effect.Effect<ReadonlyArray<unknown>, SqlError>
): Effect.Effect<ReadonlyArray<ExecutionRow>, StorageError> =>
  Effect.flatMap(run(op, statement), (records) =>
    Either.match(decodeRows(dialect, records), {
      onLeft: (message) => Effect.fail(new StorageError({ op, message })),
      onRight: Effect.succeed
    }))

const NullableInt = Schema.NullOr(Schema.Union(Schema.Number, Schema.NumberFromString))
const decodeWake = Schema.decodeUnknownEither(Schema.Struct({ ready_at: NullableInt, expires_at: NullableInt }))

/** Decodes the `ready_at` / `expires_at` row of a nextWake query. @since 0.1.0 */
export const wake = (
  statement: Effect.Effect<ReadonlyArray<unknown>, StorageError>
): Effect.Effect<{ readonly readyAtMs: number | null; readonly expiresAtMs: number | null }, StorageError> =>
  Effect.flatMap(statement, (records) =>
    Either.match(decodeWake(records[0] ?? { ready_at: null, expires_at: null }), {
      onLeft: (e) =>
        Effect.fail(new StorageError({ op: "nextWake", message: `nextWake returned ${String(e.message)}` })),
      onRight: (w) => Effect.succeed({ readyAtMs: w.ready_at, expiresAtMs: w.expires_at })
    }))

const retrySchedule = Schedule.exponential("5 millis", 2).pipe(
  Schedule.jittered,
  Schedule.intersect(Schedule.recurs(8))
)

/**
 * Runs `f` in a transaction opened by `withTransaction`, with a fresh {@link StorageDriver.Transaction}
 * per attempt. A top-level transaction that fails with a transient conflict is tried again (the
 * driver's work is pure until its single write, so a retry is safe); one nested in the caller's own
 * transaction is not, since the conflict aborted the caller's transaction too.
 *
 * @since 0.1.0
 */
export const transaction = (args: {
  readonly withTransaction: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | SqlError, R>
  /** Runs a top-level transaction (default: `withTransaction`); SQLite groups them to share commits. */
  readonly topLevel?: <A, E>(self: Effect.Effect<A, E>) => Effect.Effect<A, E | SqlError>
  readonly makeTransaction: () => StorageDriver.Transaction
  readonly inTransaction: Effect.Effect<boolean>
}) =>
<A, E>(f: (tx: StorageDriver.Transaction) => Effect.Effect<A, E>): Effect.Effect<A, E | StorageError> => {
  const run = (top: boolean): Effect.Effect<A, E | StorageError> =>
    Effect.suspend(() => {
      const body = Effect.suspend(() => f(args.makeTransaction()))
      return top && args.topLevel !== undefined ? args.topLevel(body) : args.withTransaction(body)
    }).pipe(
      Effect.catchIf((e): e is SqlError => e instanceof SqlError, (e) => Effect.fail(toStorageError("transaction")(e))),
      // @effect/sql turns a failed COMMIT or ROLLBACK into a defect: it is a storage failure here.
      Effect.catchAllDefect((defect) =>
        defect instanceof SqlError ? Effect.fail(toStorageError("commit")(defect)) : Effect.die(defect)
      )
    )
  return Effect.flatMap(args.inTransaction, (nested) =>
    nested
      ? run(false)
      : Effect.retry(run(true), { schedule: retrySchedule, while: (e) => e instanceof StorageError && isTransient(e) }))
}

/** True when the current fiber runs inside a `@effect/sql` transaction. @since 0.1.0 */
export const inSqlTransaction = (tag: typeof SqlClient.TransactionConnection): Effect.Effect<boolean> =>
  Effect.map(Effect.serviceOption(tag), (o) => o._tag === "Some")
