/**
 * Cron schedules on SQLite and Postgres, in real time: two executors (each with its own
 * connection, as two processes would have) on one storage enqueue each tick exactly once, and an
 * executor started after a gap catches up the ticks missed while none ran.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import * as CronSchedule from "../src/CronSchedule.js"
import * as DurableExecutor from "../src/DurableExecutor.js"
import * as PgStorage from "../src/PgStorage.js"
import type { ScheduleStorage } from "../src/ScheduleStorage.js"
import type { Signals } from "../src/Signals.js"
import * as SqliteStorage from "../src/SqliteStorage.js"
import * as Task from "../src/Task.js"
import { TaskStorage } from "../src/TaskStorage.js"
import { databaseUrl, schemasDroppedAfterAll, tempDir } from "./support/sql.js"
import { eventually, sleep } from "./support/wait.js"

const newSchema = schemasDroppedAfterAll()
const tmp = tempDir()
afterAll(() => tmp.remove())

type StorageLayer = Layer.Layer<TaskStorage | ScheduleStorage | Signals, unknown>

/** A fresh storage per test: a function that opens one more connection to it (one "process"). */
const backends: ReadonlyArray<{ readonly name: string; readonly fresh: (name: string) => () => StorageLayer }> = [
  {
    name: "SQLite",
    fresh: (name) => {
      const filename = path.join(tmp.dir, `${name}.db`)
      return () => SqliteStorage.layer({ filename })
    }
  },
  {
    name: "Postgres",
    fresh: (name) => {
      const schema = newSchema(name)
      return () => PgStorage.layer({ connectionString: databaseUrl(), schema, maxConnections: 3 })
    }
  }
]

/** Starts an executor with `tasks` on its own connection; `stop` shuts it down. */
const start = async (storage: StorageLayer, tasks: ReadonlyArray<Task.Task<any, any>>) => {
  const scope = Effect.runSync(Scope.make())
  const layer = DurableExecutor.layer({ tasks, pollIntervalMs: 200 }).pipe(Layer.provideMerge(storage))
  const ctx = await Effect.runPromise(Layer.buildWithScope(layer, scope))
  return {
    dx: Context.get(ctx, DurableExecutor.DurableExecutor),
    run: <A, E>(effect: Effect.Effect<A, E, DurableExecutor.DurableExecutor>) =>
      Effect.runPromise(Effect.provide(effect, ctx)),
    ticks: () =>
      Effect.runPromise(
        Effect.map(
          Context.get(ctx, TaskStorage).list({ taskId: "tick", limit: 10_000 }),
          (rows) => rows.map((r) => Number(r.executionId.slice("sch_s_".length))).sort((a, b) => a - b)
        )
      ),
    stop: () => Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

/** True when `ticks` are every second from the first to the last, none twice. */
const contiguousSeconds = (ticks: ReadonlyArray<number>) =>
  ticks.every((t, i) => i === 0 || t - ticks[i - 1]! === 1_000)

describe.each(backends)("cron schedules on $name", ({ fresh }) => {
  it("two executors on one storage enqueue each tick exactly once", async () => {
    const runs: Array<number> = []
    const task = Task.make({ id: "tick", timeoutMs: 5_000, run: (n: number) => Effect.sync(() => void runs.push(n)) })
    const connect = fresh("two_executors")
    const a = await start(connect(), [task])
    const b = await start(connect(), [task])
    try {
      const defined = await a.run(
        Effect.flatMap(
          DurableExecutor.DurableExecutor,
          (dx) => dx.schedule({ id: "s", cron: "* * * * * *", task, input: 1, catchUp: "all" })
        )
      )
      // The other executor sees the same schedule: it lives in storage.
      expect((await b.run(Effect.flatMap(DurableExecutor.DurableExecutor, (dx) => dx.listSchedules))).map((s) => s.id))
        .toEqual(["s"])
      await sleep(3_300)
      await a.run(Effect.flatMap(DurableExecutor.DurableExecutor, (dx) => dx.pauseSchedule("s")))
      const ticks = await a.ticks()
      expect(ticks.length).toBeGreaterThanOrEqual(3)
      expect(ticks[0]).toBe(defined.nextTickAt.getTime())
      expect(contiguousSeconds(ticks)).toBe(true)
      // Each tick's execution ran once, in one of the two executors.
      await eventually(() => runs.length >= ticks.length, { what: "every tick ran" })
      await sleep(300)
      expect(runs.length).toBe(ticks.length)
      expect(await a.ticks()).toEqual(ticks)
    } finally {
      await Promise.allSettled([a.stop(), b.stop()])
    }
  }, 20_000)

  it("an executor started after a gap catches up the missed ticks (catchUp \"all\")", async () => {
    const task = Task.make({ id: "tick", timeoutMs: 5_000, run: (_: number) => Effect.void })
    const connect = fresh("restart")
    const first = await start(connect(), [task])
    const defined = await first.run(
      Effect.flatMap(
        DurableExecutor.DurableExecutor,
        (dx) => dx.schedule({ id: "s", cron: "* * * * * *", task, input: 1, catchUp: "all" })
      )
    )
    await first.stop()
    await sleep(2_600)
    const missedUntil = Date.now()
    const second = await start(connect(), [task])
    try {
      const expected = Math.floor((missedUntil - defined.nextTickAt.getTime()) / 1_000) + 1
      expect(expected).toBeGreaterThanOrEqual(2)
      await eventually(async () => (await second.ticks()).length >= expected, { what: "the missed ticks" })
      const ticks = await second.ticks()
      expect(ticks[0]).toBe(defined.nextTickAt.getTime())
      expect(contiguousSeconds(ticks)).toBe(true)
      const [listed] = await second.run(Effect.flatMap(DurableExecutor.DurableExecutor, (dx) => dx.listSchedules))
      expect(listed!.nextTickAt.getTime()).toBeGreaterThan(missedUntil - 1_000)
    } finally {
      await second.stop()
    }
  }, 20_000)

  it("a pause by one executor stops the ticks of every executor; a redefinition keeps the next tick", async () => {
    const task = Task.make({ id: "tick", timeoutMs: 5_000, run: (_: number) => Effect.void })
    const connect = fresh("pause")
    const a = await start(connect(), [task])
    const b = await start(connect(), [task])
    try {
      const defined = await a.run(
        Effect.flatMap(
          DurableExecutor.DurableExecutor,
          (dx) => dx.schedule({ id: "s", cron: "0 0 * * * *", task, input: 1 })
        )
      )
      const again = await b.run(
        Effect.flatMap(
          DurableExecutor.DurableExecutor,
          (dx) => dx.schedule({ id: "s", cron: "0 0 * * * *", task, input: 2, catchUp: "none" })
        )
      )
      expect(again.nextTickAt).toEqual(defined.nextTickAt)
      expect(again.catchUp).toBe("none")
      await b.run(Effect.flatMap(DurableExecutor.DurableExecutor, (dx) => dx.pauseSchedule("s")))
      const [listed] = await a.run(Effect.flatMap(DurableExecutor.DurableExecutor, (dx) => dx.listSchedules))
      expect(listed!.paused).toBe(true)
      await a.run(Effect.flatMap(DurableExecutor.DurableExecutor, (dx) => dx.deleteSchedule("s")))
      expect(await b.run(Effect.flatMap(DurableExecutor.DurableExecutor, (dx) => dx.listSchedules))).toEqual([])
      expect(CronSchedule.DEFAULT_TIMEZONE).toBe(listed!.timezone)
    } finally {
      await Promise.allSettled([a.stop(), b.stop()])
    }
  }, 20_000)
})
