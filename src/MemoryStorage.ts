/**
 * The in-memory backend: the reference model for tests and the conformance kit, and the fastest
 * storage for single-process use without durability.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { ExecutionRow } from "./ExecutionRow.js"
import * as FlowControl from "./FlowControl.js"
import { Heap } from "./internal/executor/Heap.js"
import * as RowQuery from "./internal/RowQuery.js"
import * as MemoryScheduleStorage from "./MemoryScheduleStorage.js"
import { ScheduleStorage } from "./ScheduleStorage.js"
import * as StorageDriver from "./StorageDriver.js"
import { TaskStorage } from "./TaskStorage.js"

/**
 * Builds a fresh, empty in-memory backend: the row access that {@link makeSync} turns into the
 * storage port. Exposed so that a decorator (the simulator's checker) can observe every write.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeBackend = (): StorageDriver.Backend => {
  const rows = new Map<string, ExecutionRow>()
  /** Ready rows per task id, one heap per priority (`startAt` order within one). */
  const readyByTask = new Map<string, Map<number, Heap<string>>>()
  // A sleeping execution is running without a lease (null): its expiry is its timeout.
  const expiries = new Heap<{ readonly id: string; readonly leaseId: string | null }>()
  /** Execution id by idempotency identity (task id and key); rows are never deleted, nor are keys. */
  const byKey = new Map<string, string>()
  let seq = 0
  const lock = Effect.unsafeMakeSemaphore(1)

  const isLiveReady = (id: string, startAt: number): boolean => {
    const row = rows.get(id)
    return row !== undefined && row.status === "ready" && row.startAt === startAt
  }
  /** The heap with stale entries dropped from its top. */
  const cleanTop = (heap: Heap<string>): Heap<string> => {
    for (let top = heap.peek(); top !== undefined && !isLiveReady(top.value, top.key); top = heap.peek()) heap.pop()
    return heap
  }
  const index = (row: ExecutionRow): void => {
    if (row.status === "ready") {
      let heaps = readyByTask.get(row.taskId)
      if (heaps === undefined) {
        heaps = new Map()
        readyByTask.set(row.taskId, heaps)
      }
      let heap = heaps.get(row.priority)
      if (heap === undefined) {
        heap = new Heap()
        heaps.set(row.priority, heap)
      }
      heap.push({ key: row.startAt, seq: seq++, value: row.executionId })
    } else if (row.status === "running" && row.expiresAt !== null) {
      expiries.push({ key: row.expiresAt, seq: seq++, value: { id: row.executionId, leaseId: row.leaseId } })
    }
  }
  const cleanExpiries = (): void => {
    for (let top = expiries.peek(); top !== undefined; top = expiries.peek()) {
      const row = rows.get(top.value.id)
      if (row !== undefined && row.status === "running" && row.leaseId === top.value.leaseId) return
      expiries.pop()
    }
  }

  const tx: StorageDriver.Transaction = {
    get: (id) => Effect.sync(() => rows.get(id)),
    getSync: (id) => rows.get(id),
    getMany: (ids) =>
      Effect.sync(() => {
        const out: Array<ExecutionRow> = []
        for (const id of ids) {
          const row = rows.get(id)
          if (row !== undefined) out.push(row)
        }
        return out
      }),
    dueReady: ({ limit, nowMs, taskIds }) =>
      Effect.sync(() => {
        const out: Array<ExecutionRow> = []
        const taken = new Set<string>()
        while (out.length < limit) {
          let best: Heap<string> | undefined
          let bestPriority = 0
          for (const taskId of taskIds) {
            const heaps = readyByTask.get(taskId)
            if (heaps === undefined) continue
            for (const [priority, heap] of heaps) {
              const top = cleanTop(heap).peek()
              if (top === undefined || top.key > nowMs) continue
              const bestTop = best?.peek()
              if (
                bestTop === undefined || priority > bestPriority ||
                (priority === bestPriority &&
                  (top.key < bestTop.key || (top.key === bestTop.key && top.seq < bestTop.seq)))
              ) {
                best = heap
                bestPriority = priority
              }
            }
          }
          const entry = best?.pop()
          if (entry === undefined) break
          if (taken.has(entry.value)) continue
          taken.add(entry.value)
          out.push(rows.get(entry.value)!)
        }
        return out
      }),
    // A scan of every row: limited tasks only pay for it (the SQL backends read through indexes).
    dueReadyFlow: (args) => Effect.sync(() => FlowControl.scanForClaim(rows.values(), args)),
    expiredRunning: ({ limit, nowMs }) =>
      Effect.sync(() => {
        const out: Array<ExecutionRow> = []
        cleanExpiries()
        for (
          let top = expiries.peek();
          top !== undefined && top.key <= nowMs && out.length < limit;
          top = expiries.peek()
        ) {
          expiries.pop()
          out.push(rows.get(top.value.id)!)
          cleanExpiries()
        }
        return out
      }),
    insertKeyed: (list) =>
      Effect.sync(() => {
        const taken = new Map<string, string>()
        for (const row of list) {
          const identity = StorageDriver.idempotencyIdentity(row)
          const holder = identity === undefined ? undefined : byKey.get(identity)
          if (holder !== undefined) {
            taken.set(row.executionId, holder)
            continue
          }
          if (identity !== undefined) byKey.set(identity, row.executionId)
          rows.set(row.executionId, row)
          index(row)
        }
        return taken
      }),
    write: ({ inserted, updated }) =>
      Effect.sync(() => {
        for (const row of inserted) {
          rows.set(row.executionId, row)
          index(row)
        }
        for (const row of updated) {
          rows.set(row.executionId, row)
          index(row)
        }
      })
  }

  return {
    transaction: (f) => lock.withPermits(1)(f(tx)),
    get: (id) => Effect.sync(() => rows.get(id)),
    getMany: tx.getMany,
    list: (query) =>
      Effect.sync(() => {
        const out: Array<ExecutionRow> = []
        for (const row of rows.values()) {
          if (out.length >= query.limit) break
          if (query.status !== undefined && row.status !== query.status) continue
          if (query.taskId !== undefined && row.taskId !== query.taskId) continue
          if (query.rootExecutionId !== undefined && row.rootExecutionId !== query.rootExecutionId) continue
          if (query.sleepId !== undefined && row.sleepId !== query.sleepId) continue
          out.push(row)
        }
        return out
      }),
    nextWake: (taskIds) =>
      Effect.sync(() => {
        let readyAtMs: number | null = null
        for (const taskId of taskIds) {
          for (const heap of readyByTask.get(taskId)?.values() ?? []) {
            const top = cleanTop(heap).peek()
            if (top !== undefined && (readyAtMs === null || top.key < readyAtMs)) readyAtMs = top.key
          }
        }
        cleanExpiries()
        return { readyAtMs, expiresAtMs: expiries.peek()?.key ?? null }
      }),
    listPage: (query) => Effect.sync(() => RowQuery.page(rows.values(), query)),
    countBy: (by) => Effect.sync(() => RowQuery.countBy(rows.values(), by)),
    tree: (rootExecutionId) => Effect.sync(() => RowQuery.tree(rows.values(), rootExecutionId)),
    // Deleted rows leave stale entries in the ready and expiry heaps, which drop them as they do
    // for any row that left its status.
    purge: (request) =>
      lock.withPermits(1)(Effect.sync(() => {
        const trees = RowQuery.purgeable(rows.values(), request)
        let executions = 0
        for (const members of trees) {
          for (const row of members) rows.delete(row.executionId)
          executions += members.length
        }
        return { trees: trees.length, executions }
      }))
  }
}

/**
 * Builds a fresh, empty in-memory storage.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeSync = (): TaskStorage["Type"] => StorageDriver.make(makeBackend())

/** An effect that builds a fresh in-memory storage. @since 0.1.0 @category constructors */
export const make: Effect.Effect<TaskStorage["Type"]> = Effect.sync(makeSync)

/** A fresh in-memory storage and its schedules. @since 0.1.0 @category constructors */
export const makeContext = (): Context.Context<TaskStorage | ScheduleStorage> => {
  const storage = makeSync()
  return Context.make(TaskStorage, storage).pipe(Context.add(ScheduleStorage, MemoryScheduleStorage.make(storage)))
}

/** A layer with a fresh in-memory storage (and its schedules). @since 0.1.0 @category layers */
export const layer: Layer.Layer<TaskStorage | ScheduleStorage> = Layer.effectContext(Effect.sync(makeContext))
