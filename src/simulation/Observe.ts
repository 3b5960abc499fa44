/**
 * How the checker sees storage: a backend decorator that hands every committed transaction to the
 * checker, and a `TaskStorage` decorator that tags each writing call with who makes it.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import type { ExecutionRow } from "../ExecutionRow.js"
import type * as StorageDriver from "../StorageDriver.js"
import type { Command, TaskStorage } from "../TaskStorage.js"

/** Who makes a storage call and what it is, so a commit can be judged. @since 0.1.0 @category models */
export interface CallInfo {
  readonly origin: string
  readonly op: "insert" | "claim" | "apply" | "expire"
  readonly commands?: ReadonlyArray<Command>
  readonly nowMs?: number
  /** For a claim: the lease leeway the claiming process is configured with. */
  readonly leaseLeewayMs?: number
}

/** The call being made by the current fiber. @since 0.1.0 @category fiber refs */
export const currentCall: FiberRef.FiberRef<CallInfo | undefined> = FiberRef.unsafeMake<CallInfo | undefined>(undefined)

/** What {@link observe} reports to. @since 0.1.0 @category models */
export interface CommitObserver {
  readonly commit: (
    call: CallInfo | undefined,
    writes: { readonly updated: ReadonlyArray<ExecutionRow>; readonly inserted: ReadonlyArray<ExecutionRow> },
    result: unknown
  ) => void
  /** After a purge that deleted rows: the ids of the rows it knew of that are still stored. */
  readonly purged?: (stored: ReadonlySet<string>) => void
  /** The ids of every row it knows of. */
  readonly known?: () => ReadonlyArray<string>
  /** With `readBack`: the rows a transaction wrote, and the same rows read back inside it. */
  readonly readBack?: (written: ReadonlyArray<ExecutionRow>, stored: ReadonlyArray<ExecutionRow>) => void
}

/**
 * Wraps a backend so that every committed transaction is judged by `checker`. With `readBack`
 * (for SQL backends), the rows each transaction writes are read back inside it and compared with
 * what was written, so a column the SQL leaves out is seen at once.
 *
 * @since 0.1.0
 * @category constructors
 */
export const observe = (
  backend: StorageDriver.Backend,
  checker: CommitObserver,
  readBack = false
): StorageDriver.Backend => ({
  transaction: (f) =>
    Effect.flatMap(FiberRef.get(currentCall), (call) =>
      backend.transaction((tx) => {
        const updated: Array<ExecutionRow> = []
        const inserted: Array<ExecutionRow> = []
        const observed: StorageDriver.Transaction = {
          get: tx.get,
          getMany: tx.getMany,
          dueReady: tx.dueReady,
          dueReadyFlow: tx.dueReadyFlow,
          expiredRunning: tx.expiredRunning,
          insertKeyed: (rows) =>
            Effect.tap(tx.insertKeyed(rows), (taken) => {
              inserted.push(...(taken.size === 0 ? rows : rows.filter((r) => !taken.has(r.executionId))))
            }),
          write: (w) => {
            const written = Effect.tap(tx.write(w), () => {
              updated.push(...w.updated)
              inserted.push(...w.inserted)
            })
            if (!readBack || checker.readBack === undefined) return written
            const rows = [...w.updated, ...w.inserted]
            const compare = checker.readBack
            return Effect.zipRight(
              written,
              Effect.map(tx.getMany(rows.map((r) => r.executionId)), (stored) => compare(rows, stored))
            )
          }
        }
        const judge = (result: unknown) => Effect.sync(() => checker.commit(call, { updated, inserted }, result))
        return Effect.tap(f(observed), judge)
      })),
  get: backend.get,
  getMany: backend.getMany,
  list: backend.list,
  nextWake: backend.nextWake,
  listPage: backend.listPage,
  countBy: backend.countBy,
  tree: backend.tree,
  // Rows a purge deleted are those the checker knew of that are gone after it.
  purge: (request) =>
    Effect.flatMap(backend.purge(request), (result) => {
      if (result.executions === 0 || checker.known === undefined || checker.purged === undefined) {
        return Effect.succeed(result)
      }
      return Effect.map(backend.getMany(checker.known()), (rows) => {
        checker.purged?.(new Set(rows.map((r) => r.executionId)))
        return result
      })
    })
})

/**
 * Tags each writing call of `storage` with who makes it (for the checker and the trace); a claim
 * also carries `leaseLeewayMs`, the leeway the process is configured with.
 *
 * @since 0.1.0
 * @category constructors
 */
export const withOrigin = (
  storage: TaskStorage["Type"],
  origin: string,
  leaseLeewayMs?: number
): TaskStorage["Type"] => ({
  ...storage,
  insert: (rows) => Effect.locally(storage.insert(rows), currentCall, { origin, op: "insert" }),
  claim: (request) =>
    Effect.locally(storage.claim(request), currentCall, {
      origin,
      op: "claim",
      nowMs: request.nowMs,
      ...(leaseLeewayMs === undefined ? {} : { leaseLeewayMs })
    }),
  apply: (commands) => Effect.locally(storage.apply(commands), currentCall, { origin, op: "apply", commands }),
  expire: (args) => Effect.locally(storage.expire(args), currentCall, { origin, op: "expire", nowMs: args.nowMs })
})
