/**
 * Cron schedules, the pure part: the stored schedule, parsing a definition (`effect/Cron`, five or
 * six fields, a named time zone), and which ticks a due schedule fires now under its catch-up mode.
 *
 * A tick's execution id is `sch_<scheduleId>_<tickEpochMs>`: the same in every process, so a tick
 * can be stored once only (a second insert is a DuplicateExecution).
 *
 * @since 0.1.0
 */
import * as Cron from "effect/Cron"
import * as DateTime from "effect/DateTime"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { InvalidSchedule } from "./EngineError.js"
import { describeValue } from "./internal/OptionKeys.js"

/**
 * What happens to ticks missed while no executor ran: `"none"` skips them, `"latest"` (the default)
 * fires the most recent one, `"all"` fires every one (at most {@link MAX_CATCH_UP_TICKS}).
 *
 * @since 0.1.0
 * @category models
 */
export type CatchUp = "none" | "latest" | "all"

/** @since 0.1.0 @category constants */
export const CATCH_UP_MODES: ReadonlyArray<CatchUp> = ["none", "latest", "all"]

/**
 * `catchUp: "all"` fires at most this many missed ticks after a gap, the most recent ones; older
 * ones are skipped (and a warning logged).
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_CATCH_UP_TICKS = 1_000

/** The time zone of a schedule defined without one. @since 0.1.0 @category constants */
export const DEFAULT_TIMEZONE = "UTC"

/** A stored schedule. Times are epoch milliseconds. @since 0.1.0 @category models */
export interface ScheduleRow {
  readonly scheduleId: string
  readonly taskId: string
  readonly cron: string
  readonly timezone: string
  /** The input, serialized by the task's serializer (null for `undefined`). */
  readonly input: string | null
  readonly catchUp: CatchUp
  readonly paused: boolean
  /** The next tick not fired yet. */
  readonly nextTickAt: number
  /** Bumped by every write: the compare-and-set that makes a tick fire once. */
  readonly revision: number
  readonly createdAt: number
  readonly updatedAt: number
}

/** A schedule as listed to users. @since 0.1.0 @category models */
export interface ScheduleInfo {
  readonly id: string
  readonly taskId: string
  readonly cron: string
  readonly timezone: string
  readonly catchUp: CatchUp
  readonly paused: boolean
  /** The next tick not fired yet (for a paused schedule: as it was when paused). */
  readonly nextTickAt: Date
}

/** @since 0.1.0 @category constructors */
export const toInfo = (row: ScheduleRow): ScheduleInfo => ({
  id: row.scheduleId,
  taskId: row.taskId,
  cron: row.cron,
  timezone: row.timezone,
  catchUp: row.catchUp,
  paused: row.paused,
  nextTickAt: new Date(row.nextTickAt)
})

/** The execution id of a schedule's tick. @since 0.1.0 @category constructors */
export const tickExecutionId = (scheduleId: string, tickMs: number): string => `sch_${scheduleId}_${tickMs}`

const ID = /^[A-Za-z0-9_.:-]{1,128}$/

/** Checks a schedule id: 1 to 128 letters, digits, `_`, `.`, `:` or `-`. @since 0.1.0 @category validation */
export const checkId = (id: unknown): Either.Either<string, InvalidSchedule> =>
  typeof id === "string" && ID.test(id)
    ? Either.right(id)
    : Either.left(
      new InvalidSchedule({
        scheduleId: String(id),
        field: "id",
        message: `schedule id must be 1 to 128 letters, digits, '_', '.', ':' or '-', got ${describeValue(id)}`
      })
    )

/** The tick after `afterMs` (strictly), or undefined when the expression never fires again. */
export const nextTick = (cron: Cron.Cron, afterMs: number): number | undefined => {
  try {
    return Cron.next(cron, new Date(afterMs)).getTime()
  } catch {
    return undefined
  }
}

/** The latest tick at or before `atMs`, or undefined. */
const latestTick = (cron: Cron.Cron, atMs: number): number | undefined => {
  try {
    return Cron.prev(cron, new Date(Math.floor(atMs / 1000) * 1000 + 1000)).getTime()
  } catch {
    return undefined
  }
}

/**
 * Parses a cron expression (five fields, or six with seconds first) in a named time zone; fails
 * with InvalidSchedule naming the field at fault. An expression that never fires (`0 0 30 2 *`) is
 * refused too.
 *
 * @since 0.1.0
 * @category validation
 */
export const parse = (
  scheduleId: string,
  expression: unknown,
  timezone: unknown
): Either.Either<Cron.Cron, InvalidSchedule> => {
  const invalid = (field: "cron" | "timezone", message: string) =>
    Either.left(
      new InvalidSchedule({ scheduleId, field, message: `schedule ${JSON.stringify(scheduleId)}: ${message}` })
    )
  if (typeof timezone !== "string" || Option.isNone(DateTime.zoneMakeNamed(timezone))) {
    return invalid(
      "timezone",
      `timezone must be an IANA time zone name (e.g. "Europe/Paris"), got ${describeValue(timezone)}`
    )
  }
  if (typeof expression !== "string") return invalid("cron", `cron must be a string, got ${describeValue(expression)}`)
  const fields = expression.trim().split(/\s+/).length
  if (fields !== 5 && fields !== 6) {
    return invalid(
      "cron",
      `cron must have 5 fields (or 6, seconds first), got ${fields}: ${JSON.stringify(expression)}`
    )
  }
  const parsed = Cron.parse(expression, timezone)
  if (Either.isLeft(parsed)) {
    return invalid("cron", `invalid cron expression ${JSON.stringify(expression)}: ${parsed.left.message}`)
  }
  if (nextTick(parsed.right, 0) === undefined) {
    return invalid("cron", `cron expression ${JSON.stringify(expression)} never fires`)
  }
  return Either.right(parsed.right)
}

/** Checks a catch-up mode (undefined: the default, "latest"). @since 0.1.0 @category validation */
export const checkCatchUp = (scheduleId: string, catchUp: unknown): Either.Either<CatchUp, InvalidSchedule> =>
  catchUp === undefined
    ? Either.right("latest")
    : CATCH_UP_MODES.includes(catchUp as CatchUp)
    ? Either.right(catchUp as CatchUp)
    : Either.left(
      new InvalidSchedule({
        scheduleId,
        field: "catchUp",
        message: `schedule ${JSON.stringify(scheduleId)}: catchUp must be "none", "latest" or "all", got ${
          describeValue(catchUp)
        }`
      })
    )

/** What a due schedule does now: the ticks to fire (ascending) and the next tick to store. @since 0.1.0 */
export interface TickPlan {
  readonly ticks: ReadonlyArray<number>
  readonly nextTickAt: number
  /** Missed ticks left out (by `"none"`, `"latest"`, or the cap of `"all"`). */
  readonly skipped: number
}

/**
 * The ticks a schedule fires at `nowMs`, given its stored next tick, or undefined when it is not
 * due (or never fires again). A tick is on time while it is at most `graceMs` late: the latest due
 * tick fires under every mode when it is; older ones are "missed" and follow `catchUp`.
 *
 * @since 0.1.0
 */
export const plan = (args: {
  readonly cron: Cron.Cron
  readonly catchUp: CatchUp
  readonly nextTickAt: number
  readonly nowMs: number
  readonly graceMs: number
}): TickPlan | undefined => {
  const { cron, nowMs } = args
  if (args.nextTickAt > nowMs) return undefined
  const after = nextTick(cron, nowMs)
  if (after === undefined) return undefined
  if (args.catchUp !== "all") {
    const latest = latestTick(cron, nowMs) ?? args.nextTickAt
    const last = Math.max(latest, args.nextTickAt)
    const onTime = nowMs - last <= args.graceMs
    const fire = args.catchUp === "latest" || onTime
    return { ticks: fire ? [last] : [], nextTickAt: after, skipped: countBetween(cron, args.nextTickAt, last, fire) }
  }
  const ticks: Array<number> = []
  for (let t: number | undefined = args.nextTickAt; t !== undefined && t <= nowMs; t = nextTick(cron, t)) {
    if (ticks.length === MAX_CATCH_UP_TICKS) {
      // More were missed than the cap: the most recent ones fire.
      const recent: Array<number> = []
      for (const d of Cron.sequenceReverse(cron, new Date(Math.floor(nowMs / 1000) * 1000 + 1000))) {
        if (d.getTime() < args.nextTickAt || recent.length === MAX_CATCH_UP_TICKS) break
        recent.push(d.getTime())
      }
      return { ticks: recent.reverse(), nextTickAt: after, skipped: 1 }
    }
    ticks.push(t)
  }
  return { ticks, nextTickAt: after, skipped: 0 }
}

/** How many ticks from `from` to `to` are left out (for a log line: counted up to 100). */
const countBetween = (cron: Cron.Cron, from: number, to: number, lastFired: boolean): number => {
  let n = 0
  for (let t: number | undefined = from; t !== undefined && t <= to && n <= 100; t = nextTick(cron, t)) {
    n++
  }
  return lastFired ? n - 1 : n
}
