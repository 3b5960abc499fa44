/**
 * Deliberately broken storages for the conformance kit's tests: right one call at a time, wrong
 * when calls overlap, because their transactions are not isolated.
 */
import * as Effect from "effect/Effect"
import type { ExecutionRow } from "../../src/ExecutionRow.js"
import * as FlowControl from "../../src/FlowControl.js"
import * as RowQuery from "../../src/internal/RowQuery.js"
import * as StorageDriver from "../../src/StorageDriver.js"
import type { TaskStorage } from "../../src/TaskStorage.js"

/**
 * A backend without isolation: its transactions share one map with no lock, and yield (let
 * other fibers run) where `yieldsAfter` says, after reading a row or the due rows.
 */
export const unisolated = (yieldsAfter: {
  readonly dueRows?: boolean
  readonly parentRead?: boolean
}): Effect.Effect<TaskStorage["Type"]> =>
  Effect.sync(() => {
    const rows = new Map<string, ExecutionRow>()
    const pause = <A>(value: A, when: boolean) => (when ? Effect.as(Effect.yieldNow(), value) : Effect.succeed(value))
    const list: StorageDriver.Backend["list"] = (query) =>
      Effect.sync(() =>
        [...rows.values()].filter((r) =>
          (query.status === undefined || r.status === query.status) &&
          (query.taskId === undefined || r.taskId === query.taskId) &&
          (query.rootExecutionId === undefined || r.rootExecutionId === query.rootExecutionId)
        ).slice(0, query.limit)
      )
    const getMany: StorageDriver.Backend["getMany"] = (ids) =>
      Effect.sync(() => ids.flatMap((id) => rows.get(id) ?? []))
    const tx: StorageDriver.Transaction = {
      get: (id) =>
        Effect.suspend(() => {
          const row = rows.get(id)
          return pause(row, yieldsAfter.parentRead === true && row !== undefined && row.children.length > 0)
        }),
      getMany,
      dueReady: ({ limit, nowMs, taskIds }) =>
        Effect.suspend(() => {
          const due = [...rows.values()]
            .filter((r) => r.status === "ready" && taskIds.has(r.taskId) && r.startAt <= nowMs)
            .sort(FlowControl.claimOrder)
            .slice(0, limit)
          return pause(due, yieldsAfter.dueRows === true)
        }),
      dueReadyFlow: (args) => Effect.sync(() => FlowControl.scanForClaim(rows.values(), args)),
      expiredRunning: ({ limit, nowMs }) =>
        Effect.sync(() =>
          [...rows.values()]
            .filter((r) => r.status === "running" && r.expiresAt !== null && r.expiresAt <= nowMs)
            .sort((a, b) => a.expiresAt! - b.expiresAt!)
            .slice(0, limit)
        ),
      insertKeyed: (list) =>
        Effect.sync(() => {
          const taken = new Map<string, string>()
          for (const row of list) {
            const holder = row.idempotencyKey === null ?
              undefined :
              [...rows.values()].find((r) => r.taskId === row.taskId && r.idempotencyKey === row.idempotencyKey)
            if (holder !== undefined) taken.set(row.executionId, holder.executionId)
            else rows.set(row.executionId, row)
          }
          return taken
        }),
      write: ({ inserted, updated }) =>
        Effect.sync(() => {
          for (const row of [...inserted, ...updated]) rows.set(row.executionId, row)
        })
    }
    return StorageDriver.make({
      transaction: (f) => f(tx),
      get: (id) => Effect.sync(() => rows.get(id)),
      getMany,
      list,
      nextWake: (taskIds) =>
        Effect.sync(() => {
          const ready = [...rows.values()].filter((r) => r.status === "ready" && taskIds.has(r.taskId))
          const running = [...rows.values()].filter((r) => r.status === "running" && r.expiresAt !== null)
          return {
            readyAtMs: ready.length === 0 ? null : Math.min(...ready.map((r) => r.startAt)),
            expiresAtMs: running.length === 0 ? null : Math.min(...running.map((r) => r.expiresAt!))
          }
        }),
      listPage: (query) => Effect.sync(() => RowQuery.page(rows.values(), query)),
      countBy: (by) => Effect.sync(() => RowQuery.countBy(rows.values(), by)),
      tree: (id) => Effect.sync(() => RowQuery.tree(rows.values(), id)),
      purge: () => Effect.succeed({ trees: 0, executions: 0 })
    })
  })

/** Two claims at once both see the same due rows, and both take them. */
export const nonAtomicClaim = unisolated({ dueRows: true })
/** Two children finishing at once both read the parent's counter, and both write counter + 1. */
export const lostIncrement = unisolated({ parentRead: true })

/** Runs every call of `make`'s storage one at a time (what the kit did before its races). */
export const serialCalls = (make: Effect.Effect<TaskStorage["Type"]>): Effect.Effect<TaskStorage["Type"]> =>
  Effect.map(make, (inner) => {
    const lock = Effect.unsafeMakeSemaphore(1)
    const one = lock.withPermits(1)
    return {
      insert: (rows) => one(inner.insert(rows)),
      claim: (request) => one(inner.claim(request)),
      apply: (commands) => one(inner.apply(commands)),
      expire: (args) => one(inner.expire(args)),
      get: (id) => one(inner.get(id)),
      getMany: (ids) => one(inner.getMany(ids)),
      list: (query) => one(inner.list(query)),
      nextWake: (taskIds) => one(inner.nextWake(taskIds)),
      listPage: (query) => one(inner.listPage(query)),
      countBy: (by) => one(inner.countBy(by)),
      tree: (id) => one(inner.tree(id)),
      purge: (request) => one(inner.purge(request))
    }
  })
