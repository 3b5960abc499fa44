/**
 * The schedule loop: fires the due ticks of cron schedules whose task this executor registered
 * (the others are left to the processes that have it), each tick at most once however many
 * executors run ({@link ScheduleStorage.fire}). It sleeps until the earliest next tick, bounded
 * by the poll interval (schedules changed by other processes), and wakes on this process's
 * schedule changes.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import type * as Cron from "effect/Cron"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as CronSchedule from "../../CronSchedule.js"
import { makeReady } from "../../ExecutionRow.js"
import type { RegistryService } from "../../Registry.js"
import type { ScheduleStorage } from "../../ScheduleStorage.js"
import type { Signals } from "../../Signals.js"
import type { ExecutorState } from "./ExecutorState.js"
import * as Loop from "./Loop.js"

/** Due schedules handled per step. */
const BATCH = 64

/** @since 0.1.0 @category loops */
export const run = (args: {
  readonly state: ExecutorState
  readonly schedules: ScheduleStorage["Type"]
  readonly signals: Signals["Type"]
  readonly registry: RegistryService
  readonly pollIntervalMs: number
}): Effect.Effect<void> => {
  const { registry, schedules, state } = args
  /** A tick this late still fires under `catchUp: "none"`. */
  const graceMs = Math.max(1_000, args.pollIntervalMs)
  const parsed = new Map<string, Cron.Cron | undefined>()
  const cronOf = (row: CronSchedule.ScheduleRow): Cron.Cron | undefined => {
    const key = `${row.timezone} ${row.cron}`
    if (!parsed.has(key)) {
      parsed.set(key, Either.getOrUndefined(CronSchedule.parse(row.scheduleId, row.cron, row.timezone)))
    }
    return parsed.get(key)
  }

  /** Fires one due schedule; false when it cannot be handled here (its cron does not parse). */
  const fireOne = (row: CronSchedule.ScheduleRow, nowMs: number) =>
    Effect.gen(function*() {
      const definition = registry.get(row.taskId)
      const cron = cronOf(row)
      if (definition === undefined || cron === undefined) return { handled: false, fired: false }
      const plan = CronSchedule.plan({ cron, catchUp: row.catchUp, nextTickAt: row.nextTickAt, nowMs, graceMs })
      if (plan === undefined) return { handled: false, fired: false }
      const rows = plan.ticks.map((tick) =>
        makeReady({
          spec: definition.spec,
          executionId: CronSchedule.tickExecutionId(row.scheduleId, tick),
          input: row.input,
          nowMs
        })
      )
      const fired = yield* schedules.fire({
        scheduleId: row.scheduleId,
        revision: row.revision,
        nextTickAt: plan.nextTickAt,
        nowMs,
        rows
      })
      if (fired && plan.skipped > 0) {
        yield* Effect.logWarning(`durable-tasks: schedule ${row.scheduleId} skipped missed ticks`).pipe(
          Effect.annotateLogs({ scheduleId: row.scheduleId, catchUp: row.catchUp, skipped: plan.skipped })
        )
      }
      return { handled: true, fired: fired && rows.length > 0 }
    })

  /** Fires what is due; returns how long to wait for the next tick. */
  const fireDue = Effect.gen(function*() {
    const nowMs = yield* Clock.currentTimeMillis
    const due = yield* schedules.due({ nowMs, taskIds: registry.taskIds, limit: BATCH })
    let stuck = false
    let fired = false
    for (const row of due) {
      const outcome = yield* Effect.uninterruptible(fireOne(row, nowMs))
      stuck ||= !outcome.handled
      fired ||= outcome.fired
    }
    if (fired) yield* args.signals.notifyReady
    if (due.length === BATCH && !stuck) return 0
    const next = yield* schedules.nextTickAt(registry.taskIds)
    const now = yield* Clock.currentTimeMillis
    // A schedule this executor cannot handle stays due: wait the poll interval rather than spin.
    return next !== null && !stuck ? Math.min(args.pollIntervalMs, Math.max(0, next - now)) : args.pollIntervalMs
  }).pipe(
    Effect.catchTag("StorageError", (error) =>
      Effect.as(
        Effect.logWarning("durable-tasks: firing schedules failed; retrying after the poll interval", error),
        args.pollIntervalMs
      ))
  )

  const step = Effect.gen(function*() {
    if (state.stopping) return false
    const version = schedules.changed.version
    const waitMs = registry.taskIds.size > 0 ? yield* fireDue : args.pollIntervalMs
    if (waitMs > 0) yield* schedules.changed.wait(version, waitMs)
    else yield* Effect.yieldNow()
    return true
  })
  return Loop.run("schedule", step, args.pollIntervalMs)
}
