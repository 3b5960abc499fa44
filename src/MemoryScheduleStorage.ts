/**
 * Schedules in memory, beside a memory `TaskStorage`: the reference for the SQL implementation.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type { ScheduleRow } from "./CronSchedule.js"
import { Wakeup } from "./internal/executor/Wakeup.js"
import { ScheduleStorage } from "./ScheduleStorage.js"
import type { TaskStorage } from "./TaskStorage.js"

/**
 * Schedules in memory whose ticks are inserted into `storage` (a memory storage: one process, so
 * a lock over each call is the transaction).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (storage: TaskStorage["Type"]): ScheduleStorage["Type"] => {
  const rows = new Map<string, ScheduleRow>()
  const lock = Effect.unsafeMakeSemaphore(1)
  const changed = new Wakeup()
  const locked = <A, E>(self: Effect.Effect<A, E>) => Effect.uninterruptible(lock.withPermits(1)(self))
  const notifying = <A, E>(self: Effect.Effect<A, E>) => Effect.tap(self, () => Effect.sync(() => changed.notify()))
  const sorted = () => Array.from(rows.values()).sort((a, b) => (a.scheduleId < b.scheduleId ? -1 : 1))
  return ScheduleStorage.of({
    upsert: (row) =>
      notifying(locked(Effect.sync(() => {
        const old = rows.get(row.scheduleId)
        const same = old !== undefined && old.cron === row.cron && old.timezone === row.timezone
        const stored: ScheduleRow = old === undefined ? row : {
          ...row,
          nextTickAt: same ? old.nextTickAt : row.nextTickAt,
          paused: old.paused,
          revision: old.revision + 1,
          createdAt: old.createdAt
        }
        rows.set(row.scheduleId, stored)
        return stored
      }))),
    get: (id) => Effect.sync(() => rows.get(id)),
    list: Effect.sync(sorted),
    setPaused: ({ nextTickAt, nowMs, paused, scheduleId }) =>
      notifying(locked(Effect.sync(() => {
        const old = rows.get(scheduleId)
        if (old === undefined || (!paused && !old.paused)) return old
        const row: ScheduleRow = {
          ...old,
          paused,
          nextTickAt: paused || nextTickAt === undefined ? old.nextTickAt : nextTickAt,
          revision: old.revision + 1,
          updatedAt: nowMs
        }
        rows.set(scheduleId, row)
        return row
      }))),
    remove: (id) => notifying(locked(Effect.sync(() => rows.delete(id)))),
    due: ({ limit, nowMs, taskIds }) =>
      Effect.sync(() =>
        sorted().filter((r) => !r.paused && r.nextTickAt <= nowMs && taskIds.has(r.taskId)).slice(0, limit)
      ),
    nextTickAt: (taskIds) =>
      Effect.sync(() => {
        let next: number | null = null
        for (const r of rows.values()) {
          if (!r.paused && taskIds.has(r.taskId) && (next === null || r.nextTickAt < next)) next = r.nextTickAt
        }
        return next
      }),
    fire: (request) =>
      locked(Effect.gen(function*() {
        const old = rows.get(request.scheduleId)
        if (old === undefined || old.paused || old.revision !== request.revision) return false
        const stored = new Set(
          (yield* storage.getMany(request.rows.map((r) => r.executionId))).map((r) => r.executionId)
        )
        const fresh = request.rows.filter((r) => !stored.has(r.executionId))
        // Inserted first: a failed insert leaves the schedule as it was, to be fired again.
        if (fresh.length > 0) yield* Effect.catchTag(storage.insert(fresh), "DuplicateExecution", () => Effect.void)
        rows.set(request.scheduleId, {
          ...old,
          nextTickAt: request.nextTickAt,
          revision: old.revision + 1,
          updatedAt: request.nowMs
        })
        return true
      })),
    changed
  })
}
