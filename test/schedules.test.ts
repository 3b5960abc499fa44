/**
 * Cron schedules on memory under TestClock (the Effect API): each tick fires once at its due time,
 * ticks missed while no executor ran follow catchUp, pause / resume / delete, redefinition,
 * validation errors, time zones and six-field expressions; and the Promise facade, in real time.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/TestClock"
import * as CronSchedule from "../src/CronSchedule.js"
import * as DurableExecutor from "../src/DurableExecutor.js"
import {
  createInMemoryStorage,
  DurableExecutor as FacadeExecutor,
  DurableScheduleError,
  DurableScheduleNotFoundError
} from "../src/index.js"
import * as MemoryStorage from "../src/MemoryStorage.js"
import type * as Schedules from "../src/Schedules.js"
import type { ScheduleStorage } from "../src/ScheduleStorage.js"
import * as Signals from "../src/Signals.js"
import * as Task from "../src/Task.js"
import { TaskStorage } from "../src/TaskStorage.js"
import { settle } from "./support/effect.js"
import { eventually } from "./support/wait.js"

const MIN = 60_000

/** A task that records each run's input. */
const recorder = () => {
  const runs: Array<number> = []
  const task = Task.make({
    id: "tick",
    timeoutMs: 10_000,
    run: (n: number) => Effect.sync(() => void runs.push(n))
  })
  return { runs, task }
}

/** Storage that outlives executors: the "database" of these tests. */
const freshStorage = () => MemoryStorage.makeContext()

/** Runs `body` with an executor (tasks registered) on `storage`; the executor stops afterwards. */
const withExecutor = <A, E>(
  storage: Context.Context<TaskStorage | ScheduleStorage>,
  tasks: ReadonlyArray<Task.Task<any, any>>,
  body: Effect.Effect<A, E, DurableExecutor.DurableExecutor>,
  // Long: each wake-up of the loops costs real time under TestClock. Ticks need no polling.
  pollIntervalMs = 600_000
) =>
  Effect.scoped(
    Effect.flatMap(
      Layer.build(
        DurableExecutor.layer({ tasks, pollIntervalMs }).pipe(
          Layer.provide(Layer.merge(Layer.succeedContext(storage), Signals.layerMemory))
        )
      ),
      (ctx) => Effect.provide(body, ctx)
    )
  )

/** Ids of the stored executions of task "tick", sorted. */
const tickIds = (storage: Context.Context<TaskStorage | ScheduleStorage>) =>
  Effect.map(
    Context.get(storage, TaskStorage).list({ taskId: "tick", limit: 10_000 }),
    (rows) => rows.map((r) => r.executionId).sort()
  )

const ids = (...ticksMs: ReadonlyArray<number>) => ticksMs.map((t) => CronSchedule.tickExecutionId("s", t)).sort()

const advance = (ms: number) => Effect.zipRight(TestClock.adjust(ms), settle)

describe("cron schedules (memory, TestClock)", () => {
  it.effect("each tick enqueues exactly one execution, at its due time and not before", () => {
    const { runs, task } = recorder()
    const storage = freshStorage()
    return withExecutor(
      storage,
      [task],
      Effect.gen(function*() {
        const dx = yield* DurableExecutor.DurableExecutor
        const info = yield* dx.schedule({ id: "s", cron: "*/5 * * * *", task, input: 7 })
        expect(info.nextTickAt.getTime()).toBe(5 * MIN)
        expect(info.timezone).toBe("UTC")
        expect(info.catchUp).toBe("latest")
        yield* advance(5 * MIN - 1)
        expect(yield* tickIds(storage)).toEqual([])
        yield* advance(1)
        expect(yield* tickIds(storage)).toEqual(ids(5 * MIN))
        yield* advance(4 * MIN)
        expect(yield* tickIds(storage)).toEqual(ids(5 * MIN))
        yield* advance(MIN)
        yield* advance(5 * MIN)
        expect(yield* tickIds(storage)).toEqual(ids(5 * MIN, 10 * MIN, 15 * MIN))
        expect(runs).toEqual([7, 7, 7])
        const [listed] = yield* dx.listSchedules
        expect(listed?.nextTickAt.getTime()).toBe(20 * MIN)
      })
    )
  })

  const afterGap = (catchUp: CronSchedule.CatchUp | undefined) => {
    const { task } = recorder()
    const storage = freshStorage()
    return Effect.gen(function*() {
      yield* withExecutor(
        storage,
        [task],
        Effect.flatMap(
          DurableExecutor.DurableExecutor,
          (dx) => dx.schedule({ id: "s", cron: "*/5 * * * *", task, input: 1, catchUp })
        )
      )
      // No executor runs for 32 minutes: the ticks at 5, 10, …, 30 minutes are missed.
      yield* TestClock.adjust(32 * MIN)
      // A poll interval of 1 s: a tick more than 1 s late is missed (catchUp "none").
      const afterRestart = yield* withExecutor(storage, [task], Effect.zipRight(settle, tickIds(storage)), 1_000)
      return { afterRestart, storage, task }
    })
  }

  it.effect("catchUp \"latest\" (the default): one execution, for the most recent missed tick", () =>
    Effect.gen(function*() {
      const { afterRestart } = yield* afterGap(undefined)
      expect(afterRestart).toEqual(ids(30 * MIN))
    }))

  it.effect("catchUp \"all\": every missed tick, in order", () =>
    Effect.gen(function*() {
      const { afterRestart } = yield* afterGap("all")
      expect(afterRestart).toEqual(ids(5 * MIN, 10 * MIN, 15 * MIN, 20 * MIN, 25 * MIN, 30 * MIN))
    }))

  it.effect("catchUp \"none\": missed ticks are skipped, the next future tick fires", () =>
    Effect.gen(function*() {
      const { afterRestart, storage, task } = yield* afterGap("none")
      expect(afterRestart).toEqual([])
      yield* withExecutor(storage, [task], advance(3 * MIN), 1_000)
      expect(yield* tickIds(storage)).toEqual(ids(35 * MIN))
    }))

  it.effect("\"all\" fires at most MAX_CATCH_UP_TICKS missed ticks, the most recent ones", () => {
    const { task } = recorder()
    const storage = freshStorage()
    return Effect.gen(function*() {
      yield* withExecutor(
        storage,
        [task],
        Effect.flatMap(
          DurableExecutor.DurableExecutor,
          (dx) => dx.schedule({ id: "s", cron: "* * * * *", task, input: 1, catchUp: "all" })
        )
      )
      yield* TestClock.adjust((CronSchedule.MAX_CATCH_UP_TICKS + 500) * MIN)
      const fired = yield* withExecutor(storage, [task], Effect.zipRight(settle, tickIds(storage)))
      expect(fired.length).toBe(CronSchedule.MAX_CATCH_UP_TICKS)
      expect(fired).toContain(CronSchedule.tickExecutionId("s", (CronSchedule.MAX_CATCH_UP_TICKS + 500) * MIN))
      expect(fired).not.toContain(CronSchedule.tickExecutionId("s", 500 * MIN))
    })
  })

  it.effect("pause stops the ticks, resume restarts from the next tick after now, delete ends them", () => {
    const { task } = recorder()
    const storage = freshStorage()
    return withExecutor(
      storage,
      [task],
      Effect.gen(function*() {
        const dx = yield* DurableExecutor.DurableExecutor
        yield* dx.schedule({ id: "s", cron: "* * * * *", task, input: 1 })
        yield* advance(MIN)
        expect(yield* tickIds(storage)).toEqual(ids(MIN))
        expect((yield* dx.pauseSchedule("s")).paused).toBe(true)
        yield* advance(3 * MIN)
        expect(yield* tickIds(storage)).toEqual(ids(MIN))
        // Redefining a paused schedule keeps it paused.
        expect((yield* dx.schedule({ id: "s", cron: "* * * * *", task, input: 1 })).paused).toBe(true)
        yield* advance(30_000)
        const resumed = yield* dx.resumeSchedule("s")
        expect(resumed.paused).toBe(false)
        expect(resumed.nextTickAt.getTime()).toBe(5 * MIN) // the pause's ticks are not caught up
        yield* advance(30_000)
        expect(yield* tickIds(storage)).toEqual(ids(MIN, 5 * MIN))
        yield* dx.deleteSchedule("s")
        yield* advance(3 * MIN)
        expect(yield* tickIds(storage)).toEqual(ids(MIN, 5 * MIN))
        expect(yield* dx.listSchedules).toEqual([])
        for (const op of [dx.pauseSchedule("s"), dx.resumeSchedule("s"), dx.deleteSchedule("s")]) {
          expect((yield* Effect.flip(op))._tag).toBe("ScheduleNotFound")
        }
      })
    )
  })

  it.effect("redefining a schedule with the same id updates it: input, catch-up, cron", () => {
    const { runs, task } = recorder()
    const storage = freshStorage()
    return withExecutor(
      storage,
      [task],
      Effect.gen(function*() {
        const dx = yield* DurableExecutor.DurableExecutor
        yield* dx.schedule({ id: "s", cron: "*/5 * * * *", task, input: 1 })
        yield* advance(MIN)
        const same = yield* dx.schedule({ id: "s", cron: "*/5 * * * *", task, input: 2, catchUp: "all" })
        expect(same.nextTickAt.getTime()).toBe(5 * MIN)
        expect(same.catchUp).toBe("all")
        yield* advance(4 * MIN)
        expect(runs).toEqual([2])
        const hourly = yield* dx.schedule({ id: "s", cron: "0 * * * *", task, input: 3 })
        expect(hourly.nextTickAt.getTime()).toBe(60 * MIN)
        yield* advance(55 * MIN)
        expect(runs).toEqual([2, 3])
        expect((yield* dx.listSchedules).map((s) => s.id)).toEqual(["s"])
      })
    )
  })

  it.effect("a schedule whose task this executor did not register is left to executors that have it", () => {
    const { task } = recorder()
    const other = Task.make({ id: "other", timeoutMs: 1_000, run: () => Effect.void })
    const storage = freshStorage()
    return Effect.gen(function*() {
      yield* withExecutor(
        storage,
        [task],
        Effect.flatMap(
          DurableExecutor.DurableExecutor,
          (dx) => dx.schedule({ id: "s", cron: "* * * * *", task, input: 1 })
        )
      )
      yield* withExecutor(storage, [other], advance(2 * MIN))
      expect(yield* tickIds(storage)).toEqual([])
      yield* withExecutor(storage, [task], settle)
      expect(yield* tickIds(storage)).toEqual(ids(2 * MIN))
    })
  })

  it.effect("time zones (DST included) and six fields with seconds", () => {
    const { task } = recorder()
    const storage = freshStorage()
    return withExecutor(
      storage,
      [task],
      Effect.gen(function*() {
        const dx = yield* DurableExecutor.DurableExecutor
        // 1970-01-01: Paris is UTC+1.
        const paris = yield* dx.schedule({ id: "p", cron: "0 9 * * *", timezone: "Europe/Paris", task, input: 1 })
        expect(paris.nextTickAt.toISOString()).toBe("1970-01-01T08:00:00.000Z")
        const seconds = yield* dx.schedule({ id: "sec", cron: "*/10 * * * * *", task, input: 1 })
        expect(seconds.nextTickAt.getTime()).toBe(10_000)
        for (let i = 0; i < 3; i++) yield* advance(10_000)
        expect((yield* tickIds(storage)).filter((id) => id.startsWith("sch_sec_"))).toEqual(
          [10_000, 20_000, 30_000].map((t) => CronSchedule.tickExecutionId("sec", t)).sort()
        )
        // Paris moves to UTC+2 on 2025-03-30: 09:00 there is 07:00Z (checked on the pure part: moving
        // TestClock 55 years would run every poll of the executor's loops).
        const cron = Either.getOrThrow(CronSchedule.parse("p", "0 9 * * *", "Europe/Paris"))
        const summer = CronSchedule.nextTick(cron, Date.parse("2025-03-29T12:00:00Z"))!
        expect(new Date(summer).toISOString()).toBe("2025-03-30T07:00:00.000Z")
        yield* settle // the ticks caught up after the jump finish before the executor stops
      })
    )
  })

  it.effect("bad definitions fail with InvalidSchedule naming the field", () => {
    const { task } = recorder()
    return withExecutor(
      freshStorage(),
      [task],
      Effect.gen(function*() {
        const dx = yield* DurableExecutor.DurableExecutor
        const fail = (options: unknown) => Effect.flip(dx.schedule(options as Schedules.ScheduleOptions))
        const cases: ReadonlyArray<readonly [unknown, string, RegExp]> = [
          [{ id: "s", cron: "*/5 * * *", task }, "cron", /5 fields/],
          [{ id: "s", cron: "99 * * * *", task }, "cron", /invalid cron expression/],
          [{ id: "s", cron: "0 0 30 2 *", task }, "cron", /never fires/],
          [{ id: "s", cron: "* * * * *", timezone: "Mars/Olympus", task }, "timezone", /Mars\/Olympus/],
          [{ id: "s", cron: "* * * * *", task, catchUp: "some" }, "catchUp", /"none", "latest" or "all"/],
          [{ id: "s", cron: "* * * * *", task: "tick" }, "task", /task definition/],
          [{ id: "a b", cron: "* * * * *", task }, "id", /schedule id/],
          [{ id: "s", cron: "* * * * *", task, catchup: "all" }, "options", /did you mean 'catchUp'/]
        ]
        for (const [options, field, message] of cases) {
          const error = yield* fail(options)
          expect(error._tag).toBe("InvalidSchedule")
          if (error._tag === "InvalidSchedule") {
            expect(error.field).toBe(field)
            expect(error.message).toMatch(message)
          }
        }
        expect(yield* dx.listSchedules).toEqual([])
      })
    )
  })
})

describe("cron schedules (Promise facade)", () => {
  it("schedule, list, pause, resume and delete; errors are the facade's classes", async () => {
    const executor = new FacadeExecutor(createInMemoryStorage(), { logLevel: "none", pollIntervalMs: 100 })
    const seen: Array<string> = []
    const task = executor.task({ id: "beat", timeoutMs: 1_000, run: (_ctx, input: string) => void seen.push(input) })
    await executor.start()
    try {
      const schedule = await executor.schedule({ id: "beat", cron: "* * * * * *", task, input: "x" })
      expect(schedule.paused).toBe(false)
      await eventually(() => seen.length >= 1, { timeoutMs: 3_000, what: "a tick ran" })
      expect((await executor.pauseSchedule("beat")).paused).toBe(true)
      expect((await executor.resumeSchedule("beat")).paused).toBe(false)
      expect((await executor.listSchedules()).map((s) => s.id)).toEqual(["beat"])
      await executor.deleteSchedule("beat")
      expect(await executor.listSchedules()).toEqual([])
      await expect(executor.pauseSchedule("beat")).rejects.toBeInstanceOf(DurableScheduleNotFoundError)
      await expect(executor.schedule({ id: "beat", cron: "nope", task })).rejects.toBeInstanceOf(DurableScheduleError)
      const foreign = new FacadeExecutor(createInMemoryStorage()).task({ id: "f", timeoutMs: 1, run: () => 1 })
      await expect(executor.schedule({ id: "f", cron: "* * * * *", task: foreign })).rejects.toBeInstanceOf(
        DurableScheduleError
      )
    } finally {
      await executor.shutdown()
    }
  })
})
