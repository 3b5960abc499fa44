/**
 * Storage for the Promise facade: a value that carries the layers the engine needs.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as RcRef from "effect/RcRef"
import * as Scope from "effect/Scope"
import * as MemoryStorage from "../MemoryStorage.js"
import * as PgStorage from "../PgStorage.js"
import { Signals } from "../Signals.js"
import * as SignalsModule from "../Signals.js"
import * as SqliteStorage from "../SqliteStorage.js"
import type { TaskStorage } from "../TaskStorage.js"
import { DurableExecutorOptionsError } from "./errors.js"

/**
 * A storage for `new DurableExecutor(storage)`. Executors given the same storage value share it
 * (and, in one process, its wake-ups).
 *
 * @since 0.1.0
 * @category models
 */
export interface DurableStorage {
  readonly kind: string
  readonly layer: Layer.Layer<TaskStorage | Signals, unknown>
}

/**
 * An in-memory storage: fast, for tests and single-process use; nothing survives the process.
 *
 * @since 0.1.0
 * @category constructors
 */
export const createInMemoryStorage = (): DurableStorage => {
  const storage = MemoryStorage.makeContext()
  const signals = SignalsModule.makeHub().service
  return { kind: "memory", layer: Layer.succeedContext(Context.add(storage, Signals, signals)) }
}

/**
 * A layer built once and shared by every executor that uses it (one connection or pool, one
 * signal hub), released when the last of them shuts down, and built again if one starts later.
 */
const shared = <A, E>(layer: Layer.Layer<A, E>): Layer.Layer<A, E> => {
  const ref = Effect.runSync(
    Effect.flatMap(Scope.make(), (scope) => Scope.extend(RcRef.make({ acquire: Layer.build(layer) }), scope))
  )
  return Layer.scopedContext(RcRef.get(ref))
}

/** Options of {@link createSqliteStorage}. @since 0.1.0 @category models */
export type SqliteStorageOptions = SqliteStorage.Options

/**
 * A SQLite storage on one file (created with its directory when missing): the embedded default.
 * Work survives a crash or `kill -9`; a restarted executor picks up where the dead one stopped once
 * its leases lapse. Executors of one process given this value share its connection and wake-ups;
 * several processes may share the file (writers take turns) and notice each other's work by
 * polling (`pollIntervalMs`); a writer waits for another's lock without blocking the event loop,
 * up to `busyTimeoutMs`. Bad options (a `file:` URI, a misspelt key) throw
 * `DurableExecutorOptionsError` here; a file that cannot be opened (not a database, read-only, a
 * directory) makes `start()` and the first call reject with `DurableStorageError` naming the file.
 *
 * @since 0.1.0
 * @category constructors
 */
export const createSqliteStorage = (options: SqliteStorageOptions): DurableStorage => {
  const problem = SqliteStorage.validate(options)
  if (problem !== undefined) throw new DurableExecutorOptionsError(`invalid SQLite storage options: ${problem}`)
  return { kind: "sqlite", layer: shared(SqliteStorage.layer({ ...options })) }
}

/** Options of {@link createPostgresStorage}. @since 0.1.0 @category models */
export type PostgresStorageOptions = PgStorage.Options

/**
 * A Postgres storage: many executor processes, on one or many machines, share the database. Each
 * execution is claimed by one executor at a time; enqueues, finishes and cancels reach the other
 * processes through `LISTEN`/`NOTIFY`, with polling (`pollIntervalMs`) as the fallback. A
 * connection string that is not a `postgres://` URL throws `DurableExecutorOptionsError` here; a
 * server that is unreachable at start-up is retried (logged) for up to `connectRetryMs` (30 s), then
 * `start()` rejects with `DurableStorageError` naming the server.
 *
 * @since 0.1.0
 * @category constructors
 */
export const createPostgresStorage = (options: PostgresStorageOptions): DurableStorage => {
  const problem = PgStorage.validate(options)
  if (problem !== undefined) throw new DurableExecutorOptionsError(`invalid Postgres storage options: ${problem}`)
  return { kind: "postgres", layer: shared(PgStorage.layer({ ...options })) }
}
