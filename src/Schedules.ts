/**
 * The Effect API's schedule operations (on the `DurableExecutor` service): define or redefine a
 * cron schedule, list, pause, resume and delete schedules. The schedules live in storage
 * (`ScheduleStorage`), so every executor on it runs them; each tick enqueues one execution of the
 * schedule's task, with the schedule's input.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as CronSchedule from "./CronSchedule.js"
import type { TaskLike } from "./DurableExecutor.js"
import {
  ExecutorShutDown,
  InvalidSchedule,
  type InvalidTaskDefinition,
  type InvalidTaskInput,
  ScheduleNotFound,
  SchedulesUnsupported,
  type StorageError,
  type UnstorableValue
} from "./EngineError.js"
import { describeValue, unknownKeyProblem } from "./internal/OptionKeys.js"
import type { ScheduleStorage } from "./ScheduleStorage.js"
import type { TaskDefinition } from "./TaskDefinition.js"

/** @since 0.1.0 @category models */
export interface ScheduleOptions<I = unknown> {
  /** The schedule's id: defining one with an id already stored updates that schedule. */
  readonly id: string
  /** Five fields (`"*\/5 * * * *"`), or six with seconds first (`"0 *\/5 * * * *"`). */
  readonly cron: string
  /** An IANA time zone name the cron is read in. Default `"UTC"`. */
  readonly timezone?: string | undefined
  readonly task: TaskLike<I, any>
  /** The input of every tick's execution, validated and stored once, when the schedule is defined. */
  readonly input?: I | undefined
  /** Ticks missed while no executor ran: `"none"`, `"latest"` (default) or `"all"`. */
  readonly catchUp?: CronSchedule.CatchUp | undefined
}

/** Errors defining a schedule can fail with. @since 0.1.0 @category errors */
export type ScheduleError =
  | InvalidSchedule
  | InvalidTaskDefinition
  | InvalidTaskInput
  | UnstorableValue
  | StorageError
  | SchedulesUnsupported
  | ExecutorShutDown

/** @since 0.1.0 @category models */
export interface ScheduleClient {
  /** Defines a schedule, or updates the one with the same id (its missed ticks kept if the cron is unchanged). */
  readonly schedule: <I>(options: ScheduleOptions<I>) => Effect.Effect<CronSchedule.ScheduleInfo, ScheduleError>
  readonly listSchedules: Effect.Effect<ReadonlyArray<CronSchedule.ScheduleInfo>, StorageError | SchedulesUnsupported>
  /** Stops firing ticks until resumed. */
  readonly pauseSchedule: (
    id: string
  ) => Effect.Effect<CronSchedule.ScheduleInfo, ScheduleNotFound | StorageError | SchedulesUnsupported>
  /** Fires again from the next tick after now (ticks of the pause are not caught up). */
  readonly resumeSchedule: (
    id: string
  ) => Effect.Effect<CronSchedule.ScheduleInfo, ScheduleNotFound | StorageError | SchedulesUnsupported>
  /** Deletes the schedule; executions it enqueued stay. */
  readonly deleteSchedule: (id: string) => Effect.Effect<void, ScheduleNotFound | StorageError | SchedulesUnsupported>
}

const KEYS = ["id", "cron", "timezone", "task", "input", "catchUp"]

/**
 * The schedule operations over `storage` (none: every operation fails with SchedulesUnsupported).
 * `register` registers the task (so this executor runs it), `encodeInput` validates and serializes
 * an input as an enqueue does.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeClient = (args: {
  readonly storage: Option.Option<ScheduleStorage["Type"]>
  readonly isShuttingDown: Effect.Effect<boolean>
  readonly register: (task: TaskLike<any, any>) => Effect.Effect<void, InvalidTaskDefinition>
  readonly encodeInput: (
    definition: TaskDefinition,
    input: unknown
  ) => Effect.Effect<string | null, InvalidTaskInput | UnstorableValue>
}): ScheduleClient => {
  const withStorage = <A, E>(
    f: (storage: ScheduleStorage["Type"]) => Effect.Effect<A, E>
  ): Effect.Effect<A, E | SchedulesUnsupported> =>
    Effect.suspend((): Effect.Effect<A, E | SchedulesUnsupported> =>
      Option.isSome(args.storage) ? f(args.storage.value) : Effect.fail(new SchedulesUnsupported())
    )
  const found = (scheduleId: string) => <A>(row: A | undefined) =>
    row === undefined ? Effect.fail(new ScheduleNotFound({ scheduleId })) : Effect.succeed(row)

  const schedule = <I>(options: ScheduleOptions<I>) =>
    withStorage((storage) =>
      Effect.gen(function*() {
        if (options === null || typeof options !== "object") {
          return yield* new InvalidSchedule({
            scheduleId: "",
            field: "options",
            message: `schedule options must be an object, got ${describeValue(options)}`
          })
        }
        const id = yield* CronSchedule.checkId(options.id)
        const problem = unknownKeyProblem(options, KEYS, `schedule ${JSON.stringify(id)}`)
        if (problem !== undefined) {
          return yield* new InvalidSchedule({ scheduleId: id, field: "options", message: problem })
        }
        const timezone = options.timezone ?? CronSchedule.DEFAULT_TIMEZONE
        const cron = yield* CronSchedule.parse(id, options.cron, timezone)
        const catchUp = yield* CronSchedule.checkCatchUp(id, options.catchUp)
        const task = options.task
        if (task === null || typeof task !== "object" || typeof task.definition?.id !== "string") {
          return yield* new InvalidSchedule({
            scheduleId: id,
            field: "task",
            message: `schedule ${JSON.stringify(id)}: task must be a task definition, got ${describeValue(task)}`
          })
        }
        if (yield* args.isShuttingDown) {
          return yield* new ExecutorShutDown()
        }
        yield* args.register(task)
        const input = yield* args.encodeInput(task.definition, options.input)
        const nowMs = yield* Clock.currentTimeMillis
        const row = yield* storage.upsert({
          scheduleId: id,
          taskId: task.definition.id,
          cron: options.cron,
          timezone,
          input,
          catchUp,
          paused: false,
          nextTickAt: CronSchedule.nextTick(cron, nowMs)!,
          revision: 1,
          createdAt: nowMs,
          updatedAt: nowMs
        })
        return CronSchedule.toInfo(row)
      })
    )

  const pauseSchedule = (id: string) =>
    withStorage((storage) =>
      Effect.gen(function*() {
        const nowMs = yield* Clock.currentTimeMillis
        const row = yield* Effect.flatMap(storage.setPaused({ scheduleId: id, paused: true, nowMs }), found(id))
        return CronSchedule.toInfo(row)
      })
    )

  const resumeSchedule = (id: string) =>
    withStorage((storage) =>
      Effect.gen(function*() {
        const stored = yield* Effect.flatMap(storage.get(id), found(id))
        if (!stored.paused) return CronSchedule.toInfo(stored)
        const nowMs = yield* Clock.currentTimeMillis
        const cron = Either.getOrUndefined(CronSchedule.parse(id, stored.cron, stored.timezone))
        const nextTickAt = cron === undefined ? undefined : CronSchedule.nextTick(cron, nowMs)
        const row = yield* Effect.flatMap(
          storage.setPaused({ scheduleId: id, paused: false, nextTickAt, nowMs }),
          found(id)
        )
        return CronSchedule.toInfo(row)
      })
    )

  const deleteSchedule = (id: string) =>
    withStorage((storage) =>
      Effect.flatMap(
        storage.remove(id),
        (deleted) => (deleted ? Effect.void : Effect.fail(new ScheduleNotFound({ scheduleId: id })))
      )
    )

  return {
    schedule,
    listSchedules: withStorage((storage) => Effect.map(storage.list, (rows) => rows.map(CronSchedule.toInfo))),
    pauseSchedule,
    resumeSchedule,
    deleteSchedule
  }
}
