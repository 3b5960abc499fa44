/**
 * Cron schedules in a simulated run: the shared schedule storage, the steps that define them
 * (through a client), their pause when faults stop, and their invariants at the end: every tick
 * execution is at a tick of its cron, no tick has two, and with `catchUp: "all"` none is skipped
 * (every tick from the first one up to the schedule's next tick has its execution).
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Cron from "effect/Cron"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as CronSchedule from "../CronSchedule.js"
import type { ClientService } from "../DurableExecutor.js"
import type { ExecutionRow } from "../ExecutionRow.js"
import * as MemoryScheduleStorage from "../MemoryScheduleStorage.js"
import { ScheduleStorage } from "../ScheduleStorage.js"
import type { TaskStorage } from "../TaskStorage.js"
import type { Checker } from "./Invariants.js"
import type { ScheduleStep } from "./Scenario.js"

/** The run's schedule storage over `storage`, when it defines schedules. @since 0.1.0 */
export const storageFor = (
  steps: ReadonlyArray<ScheduleStep> | undefined,
  storage: TaskStorage["Type"] | undefined
): ScheduleStorage["Type"] | undefined =>
  steps === undefined || steps.length === 0 || storage === undefined ? undefined : MemoryScheduleStorage.make(storage)

/** `context` with the schedules, when there are. @since 0.1.0 */
export const provide = <A>(context: Context.Context<A>, schedules: ScheduleStorage["Type"] | undefined) =>
  schedules === undefined ? context : Context.add(context, ScheduleStorage, schedules)

/**
 * The violations of the schedule invariants, given the first tick of each defined schedule, the
 * schedules stored at the end and every execution row.
 *
 * @since 0.1.0
 */
export const violations = (
  steps: ReadonlyArray<ScheduleStep>,
  firstTicks: ReadonlyMap<string, number>,
  stored: ReadonlyArray<CronSchedule.ScheduleRow>,
  rows: Iterable<ExecutionRow>
): Array<string> => {
  const problems: Array<string> = []
  const all = Array.from(rows)
  for (const step of steps) {
    const first = firstTicks.get(step.id)
    const schedule = stored.find((s) => s.scheduleId === step.id)
    if (first === undefined || schedule === undefined) continue
    const cron = Either.getOrThrow(CronSchedule.parse(step.id, step.cron, CronSchedule.DEFAULT_TIMEZONE))
    const prefix = CronSchedule.tickExecutionId(step.id, 0).slice(0, -1)
    const ticks = all.filter((r) => r.executionId.startsWith(prefix)).map((r) =>
      Number(r.executionId.slice(prefix.length))
    )
    const seen = new Set<number>()
    for (const t of ticks) {
      if (seen.has(t)) problems.push(`schedule ${step.id}: tick ${t} has two executions`)
      seen.add(t)
      if (t % 1_000 !== 0 || !Cron.match(cron, new Date(t)) || t < first || t >= schedule.nextTickAt) {
        problems.push(
          `schedule ${step.id}: execution for ${t} is not a tick of ${step.cron} ` +
            `from ${first} to ${schedule.nextTickAt}`
        )
      }
    }
    if (step.catchUp !== "all") continue
    const missing: Array<number> = []
    for (
      let t: number | undefined = first;
      t !== undefined && t < schedule.nextTickAt;
      t = CronSchedule.nextTick(cron, t)
    ) {
      if (!seen.has(t)) missing.push(t)
    }
    if (missing.length > 0) {
      problems.push(
        `schedule ${step.id} (catchUp "all"): ${missing.length} ticks before its next tick ` +
          `${schedule.nextTickAt} have no execution (${missing.slice(0, 3).join(", ")}…)`
      )
    }
  }
  return problems
}

/**
 * The schedule steps of a run over `client`: `events` define them, `pause` stops them all (when
 * faults stop, so the run can end), `check` reports the invariants' violations.
 *
 * @since 0.1.0
 */
export const harness = (args: {
  readonly steps: ReadonlyArray<ScheduleStep> | undefined
  readonly schedules: ScheduleStorage["Type"] | undefined
  readonly client: ClientService
  readonly checker: Checker
  readonly log: (line: string) => void
}) => {
  const steps = args.schedules === undefined ? [] : args.steps ?? []
  const firstTicks = new Map<string, number>()
  const reportFailure = (what: string) => (error: unknown) =>
    Effect.sync(() => args.checker.violation(`${what} failed: ${String(error)}`))
  const define = (step: ScheduleStep) =>
    args.client.schedule({ id: step.id, cron: step.cron, task: step.task, input: step.input, catchUp: step.catchUp })
      .pipe(
        Effect.tap((info) => {
          firstTicks.set(step.id, info.nextTickAt.getTime())
          args.log(`schedule ${step.id} ${step.cron} ${step.catchUp} from ${info.nextTickAt.getTime()}`)
        }),
        Effect.catchAll(reportFailure(`schedule ${step.id}`)),
        Effect.asVoid
      )
  return {
    events: steps.map((step) => ({ atMs: step.atMs, run: define(step) })),
    pause: Effect.suspend(() =>
      Effect.forEach(
        steps.filter((s) => firstTicks.has(s.id)),
        (s) => Effect.catchAll(Effect.asVoid(args.client.pauseSchedule(s.id)), reportFailure(`pause of ${s.id}`)),
        { discard: true }
      )
    ),
    check: (rows: Iterable<ExecutionRow>) =>
      steps.length === 0 || args.schedules === undefined ? Effect.void : Effect.flatMap(
        Effect.orDie(args.schedules.list),
        (stored) =>
          Effect.sync(() => {
            for (const v of violations(steps, firstTicks, stored, rows)) args.checker.violation(v)
          })
      )
  }
}
