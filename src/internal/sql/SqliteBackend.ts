/**
 * SQLite's transactions for the SQL backend (`SqlBackend.ts`). Every transaction starts with
 * `BEGIN IMMEDIATE`, so writers are serialized across processes too (each waits up to the
 * connection's busy timeout), and reads inside a transaction see a state no other writer changes.
 * Top-level transactions that arrive together share one commit (group commit).
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { Connection } from "@effect/sql/SqlConnection"
import type { SqlError } from "@effect/sql/SqlError"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Queue from "effect/Queue"
import * as Scope from "effect/Scope"
import { beginImmediate } from "./SqliteBusy.js"

const isNoTransaction = (e: unknown): boolean =>
  /no transaction is active/i.test(String((e as { cause?: unknown })?.cause ?? e))

/**
 * `sql.withTransaction`, but opening with `BEGIN IMMEDIATE` (the write lock at once, so two
 * processes never both read and then both try to write), over the client's reserved connection.
 *
 * @since 0.1.0
 */
export const withImmediateTransaction = (sql: SqlClient.SqlClient) =>
  SqlClient.makeWithTransaction<SqlClient.TransactionConnection, Connection>({
    transactionTag: SqlClient.TransactionConnection,
    spanAttributes: [["db.system.name", "sqlite"]],
    acquireConnection: Effect.flatMap(Scope.make(), (scope) =>
      Effect.map(Scope.extend(sql.reserve, scope), (conn) => [scope, conn] as const)),
    // Waits for another process's write lock without blocking the event loop.
    begin: beginImmediate,
    savepoint: (conn, id) => Effect.asVoid(conn.executeUnprepared(`SAVEPOINT durable_tasks_${id}`, [], undefined)),
    commit: (conn) => Effect.asVoid(conn.executeUnprepared("COMMIT", [], undefined)),
    // After a failed BEGIN (busy) there is nothing to roll back.
    rollback: (conn) =>
      conn.executeUnprepared("ROLLBACK", [], undefined).pipe(
        Effect.asVoid,
        Effect.catchIf(isNoTransaction, () => Effect.void)
      ),
    rollbackSavepoint: (conn, id) =>
      Effect.asVoid(conn.executeUnprepared(`ROLLBACK TO SAVEPOINT durable_tasks_${id}`, [], undefined))
  })

/**
 * Group commit: top-level transactions that arrive together run one after another inside one
 * `BEGIN IMMEDIATE … COMMIT`, each in its own savepoint (a failure rolls back only its own work),
 * so a burst of enqueues, claims and finishes costs one sync to disk instead of one each. Results
 * are handed out after the commit.
 *
 * @since 0.1.0
 */
export const makeGroupCommit = (
  sql: SqlClient.SqlClient,
  maxBatch = 256
): Effect.Effect<<A, E>(self: Effect.Effect<A, E>) => Effect.Effect<A, E | SqlError>, never, Scope.Scope> =>
  Effect.gen(function*() {
    interface Pending {
      readonly run: Effect.Effect<unknown, unknown>
      readonly done: Deferred.Deferred<unknown, unknown>
    }
    const withTransaction = withImmediateTransaction(sql)
    const queue = yield* Queue.unbounded<Pending>()
    const runBatch = (batch: ReadonlyArray<Pending>) =>
      withTransaction(Effect.forEach(batch, (p) => Effect.exit(withTransaction(p.run)))).pipe(
        Effect.exit,
        Effect.flatMap((outer) =>
          Exit.isSuccess(outer)
            ? Effect.forEach(batch, (p, i) => Deferred.done(p.done, outer.value[i]!), { discard: true })
            : Effect.forEach(batch, (p) => Deferred.failCause(p.done, outer.cause), { discard: true })
        )
      )
    yield* Queue.takeBetween(queue, 1, maxBatch).pipe(
      Effect.flatMap((chunk) => runBatch(Array.from(chunk))),
      Effect.forever,
      // A group commit serves many callers: its transactions are nobody's span (no root span per batch).
      Effect.withTracerEnabled(false),
      Effect.forkScoped
    )
    return <A, E>(run: Effect.Effect<A, E>) =>
      Effect.flatMap(Deferred.make<A, E | SqlError>(), (done) =>
        Effect.zipRight(
          Queue.offer(queue, { run, done: done as Deferred.Deferred<unknown, unknown> }),
          Deferred.await(done)
        ))
  })
