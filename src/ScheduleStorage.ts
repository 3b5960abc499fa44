/**
 * The schedule storage port: cron schedules kept beside the executions, so that every executor on
 * a storage runs them. The memory, SQLite and Postgres storages provide it with `TaskStorage`
 * (`MemoryStorage.layer`, `SqlStorage.layer`, `SqliteStorage.layer`, `PgStorage.layer`); a custom
 * `TaskStorage` without it has no schedules (the executor then runs no schedule loop).
 *
 * Exactly once per tick: {@link ScheduleStorage.fire} advances a schedule's next tick with a
 * compare-and-set on its revision and inserts the tick's executions in the same transaction; the
 * executions' ids derive from the schedule id and the tick time, so a tick cannot be stored twice.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type { ScheduleRow } from "./CronSchedule.js"
import type { StorageError } from "./EngineError.js"
import type { ExecutionRow } from "./ExecutionRow.js"
import type { Wakeup } from "./internal/executor/Wakeup.js"

/** What {@link ScheduleStorage.fire} writes. @since 0.1.0 @category models */
export interface FireRequest {
  readonly scheduleId: string
  /** The revision read: nothing is written when the schedule changed since. */
  readonly revision: number
  readonly nextTickAt: number
  readonly nowMs: number
  /** The ticks' executions (ready roots); ids already stored are left out. */
  readonly rows: ReadonlyArray<ExecutionRow>
}

/** @since 0.1.0 @category tags */
export class ScheduleStorage extends Context.Tag("durable-tasks/ScheduleStorage")<ScheduleStorage, {
  /**
   * Creates the schedule, or updates the stored one with the same id: its task, cron, time zone,
   * input and catch-up mode. The stored next tick (and pause) stay when the cron and time zone are
   * unchanged, so a process that redefines its schedules at start-up does not lose missed ticks.
   */
  readonly upsert: (row: ScheduleRow) => Effect.Effect<ScheduleRow, StorageError>
  readonly get: (scheduleId: string) => Effect.Effect<ScheduleRow | undefined, StorageError>
  /** Every schedule, by id. */
  readonly list: Effect.Effect<ReadonlyArray<ScheduleRow>, StorageError>
  /**
   * Pauses, or resumes a paused schedule from `nextTickAt` (a schedule not paused is left as it is);
   * undefined when none has the id.
   */
  readonly setPaused: (args: {
    readonly scheduleId: string
    readonly paused: boolean
    readonly nextTickAt?: number | undefined
    readonly nowMs: number
  }) => Effect.Effect<ScheduleRow | undefined, StorageError>
  /** Deletes a schedule (its executions stay); false when none has the id. */
  readonly remove: (scheduleId: string) => Effect.Effect<boolean, StorageError>
  /** Unpaused schedules of these task ids whose next tick is at or before `nowMs`. */
  readonly due: (args: {
    readonly nowMs: number
    readonly taskIds: ReadonlySet<string>
    readonly limit: number
  }) => Effect.Effect<ReadonlyArray<ScheduleRow>, StorageError>
  /** The earliest next tick of unpaused schedules of these task ids, or null. */
  readonly nextTickAt: (taskIds: ReadonlySet<string>) => Effect.Effect<number | null, StorageError>
  /**
   * In one transaction: when the schedule is unpaused and still at `revision`, stores `nextTickAt`
   * (bumping the revision) and inserts the rows not stored yet; true then, false when it changed.
   */
  readonly fire: (request: FireRequest) => Effect.Effect<boolean, StorageError>
  /** Notified (in this process) after every change of a schedule's definition or pause. */
  readonly changed: Wakeup
}>() {}
