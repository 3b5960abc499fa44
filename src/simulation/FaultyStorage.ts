/**
 * A `TaskStorage` decorator for one simulated process: from the run's seeded generator, a call
 * fails before the write, fails after the write (the reply is lost), makes the process die before
 * or after the write, or is slow. A dead process's calls never reach storage: they end its fiber as
 * interrupted (so nothing of the process acts on a reply, and no fiber is left hanging).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { StorageError } from "../EngineError.js"
import type { ScheduleStorage } from "../ScheduleStorage.js"
import type { TaskStorage } from "../TaskStorage.js"
import type { FaultInjector } from "./Faults.js"

/** What the decorator needs to know of its process. @since 0.1.0 @category models */
export interface ProcessHandle {
  readonly id: string
  readonly alive: boolean
  /** Marks the process dead at once and has the harness kill it. */
  readonly crash: (why: string) => void
  /** Told of each injected fault or slow call: the call (and its retries) may take `busyForMs` longer. */
  readonly disturbed?: (busyForMs: number) => void
}

/** How long the engine's retries of a failed call may take (the finish batcher backs off 20 ms × 2^n, 6 times). */
const RETRIES_MS = 3_000

/** One storage call of `process`, faulted as the injector draws. @since 0.1.0 @category constructors */
export const faultyCall =
  (process: ProcessHandle, faults: FaultInjector) =>
  <A, E>(op: string, mutating: boolean, run: Effect.Effect<A, E>): Effect.Effect<A, E | StorageError> =>
    Effect.suspend(() => {
      if (!process.alive) return Effect.interrupt
      const { fault, slowMs } = faults.storageFault(mutating)
      if (fault !== "none" || slowMs > 0) process.disturbed?.(slowMs + (fault === "none" ? 0 : RETRIES_MS))
      const reach = Effect.suspend(() => (process.alive ? run : Effect.interrupt))
      const dieThen = (why: string) =>
        Effect.suspend(() => {
          process.crash(`${why} of ${op}`)
          return Effect.interrupt
        })
      let body: Effect.Effect<A, E | StorageError>
      switch (fault) {
        case "none":
          body = reach
          break
        case "errorBefore":
          body = Effect.fail(new StorageError({ op, message: `injected fault: ${op} failed before the write` }))
          break
        case "errorAfter":
          body = Effect.zipRight(
            reach,
            Effect.fail(new StorageError({ op, message: `injected fault: the reply of ${op} was lost` }))
          )
          break
        case "crashBefore":
          body = dieThen("crash before the write")
          break
        case "crashAfter":
          body = Effect.zipRight(reach, dieThen("crash after the reply"))
          break
      }
      return slowMs > 0 ? Effect.zipRight(Effect.sleep(slowMs), body) : body
    })

/** @since 0.1.0 @category constructors */
export const make = (
  inner: TaskStorage["Type"],
  process: ProcessHandle,
  faults: FaultInjector
): TaskStorage["Type"] => {
  const call = faultyCall(process, faults)
  return {
    insert: (rows) => call("insert", true, inner.insert(rows)),
    claim: (request) => call("claim", true, inner.claim(request)),
    apply: (commands) => call("apply", true, inner.apply(commands)),
    expire: (args) => call("expire", true, inner.expire(args)),
    get: (id) => call("get", false, inner.get(id)),
    getMany: (ids) => call("getMany", false, inner.getMany(ids)),
    list: (query) => call("list", false, inner.list(query)),
    nextWake: (taskIds) => call("nextWake", false, inner.nextWake(taskIds)),
    listPage: (query) => call("listPage", false, inner.listPage(query)),
    countBy: (by) => call("countBy", false, inner.countBy(by)),
    tree: (id) => call("tree", false, inner.tree(id)),
    purge: (request) => call("purge", true, inner.purge(request))
  }
}

/** The schedules of `process`, faulted the same way (a tick's fire too). @since 0.1.0 @category constructors */
export const schedules = (
  inner: ScheduleStorage["Type"],
  process: ProcessHandle,
  faults: FaultInjector
): ScheduleStorage["Type"] => {
  const call = faultyCall(process, faults)
  return {
    upsert: (row) => call("upsertSchedule", true, inner.upsert(row)),
    get: (id) => call("getSchedule", false, inner.get(id)),
    list: call("listSchedules", false, inner.list),
    setPaused: (args) => call("setPaused", true, inner.setPaused(args)),
    remove: (id) => call("removeSchedule", true, inner.remove(id)),
    due: (args) => call("dueSchedules", false, inner.due(args)),
    nextTickAt: (taskIds) => call("nextTick", false, inner.nextTickAt(taskIds)),
    fire: (request) => call("fire", true, inner.fire(request)),
    changed: inner.changed
  }
}
