/**
 * Durable delays through the Promise facade, on real time, on memory, SQLite and Postgres: `delayMs`
 * and `startAt` are stored as the execution's start time, so a run never starts before it, not even
 * after the executor that enqueued it shut down and another one (a new storage on the same data,
 * as after a restart) took over; bad values are refused.
 */
import { describe, expect, it } from "vitest"
import { type DurableExecutor, DurableTaskDefinitionError } from "../src/index.js"
import { caught } from "./support/caught.js"
import { places, rowsOf, withPlace } from "./support/places.js"

const TIMEOUT = 30_000

/** A task that records when its run started (real time), on executor `ex`. */
const stampTask = (ex: DurableExecutor, runs: Array<number>) =>
  ex.task({
    id: "stamp",
    timeoutMs: 5_000,
    sleepMsBeforeRun: 60_000,
    run: () => {
      runs.push(Date.now())
      return "ran"
    }
  })

describe.each(places)("delays on %s", (_name, makePlace) => {
  it(
    "delayMs overrides sleepMsBeforeRun and is not shortened by a restart",
    () =>
      withPlace(makePlace, async (place, executor) => {
        const runs: Array<number> = []
        const first = await executor(place.open())
        const before = Date.now()
        const handle = await first.enqueueTask(stampTask(first, runs), undefined, { delayMs: 1_200 })
        const [row] = await rowsOf(place.open())
        expect(row!.startAt - row!.createdAt).toBe(1_200)
        expect(row!.startAt).toBeGreaterThanOrEqual(before + 1_200)
        await first.shutdown() // the executor that enqueued it stops before the delay ends
        const second = await executor(place.open())
        const task = stampTask(second, runs)
        const done = await (await second.getTaskHandle(task, handle.getExecutionId())).waitAndGetExecution({
          pollingIntervalMs: 20
        })
        expect(done.status).toBe("completed")
        expect(runs).toHaveLength(1)
        expect(runs[0]!).toBeGreaterThanOrEqual(row!.startAt)
        expect(runs[0]! - before).toBeGreaterThanOrEqual(1_200)
        // And the task's own sleep (60 s) was overridden: the run came well before it.
        expect(runs[0]! - before).toBeLessThan(30_000)
      }),
    TIMEOUT
  )

  it("startAt: the run starts at that time, not before", () =>
    withPlace(makePlace, async (place, executor) => {
      const runs: Array<number> = []
      const ex = await executor(place.open())
      const at = new Date(Date.now() + 800)
      const handle = await ex.enqueueTask(stampTask(ex, runs), undefined, { startAt: at })
      const done = await handle.waitAndGetExecution({ pollingIntervalMs: 20 })
      expect(done.startAt.getTime()).toBe(at.getTime())
      expect(runs[0]!).toBeGreaterThanOrEqual(at.getTime())
    }), TIMEOUT)

  it(
    "refuses both at once, negative or NaN delays and invalid Dates; nothing is stored",
    () =>
      withPlace(makePlace, async (place, executor) => {
        const storage = place.open()
        const ex = await executor(storage)
        const task = stampTask(ex, [])
        const cases: ReadonlyArray<readonly [object, string]> = [
          [{ delayMs: 5, startAt: new Date() }, "give at most one of delayMs, startAt, got 2"],
          [{ delayMs: -1 }, "delayMs must be a number from 0 to 3155760000000, got -1"],
          [{ delayMs: Number.NaN }, "delayMs must be a number from 0 to 3155760000000, got NaN"],
          [{ delayMs: "5" }, "delayMs must be a number, got string \"5\""],
          [{ startAt: new Date("not a date") }, "startAt must be a valid Date"],
          [{ startAt: "2030-01-01" }, "startAt must be a valid Date, got string \"2030-01-01\""],
          [{ delayMS: 5 }, "unknown option 'delayMS' (did you mean 'delayMs'?)"]
        ]
        for (const [options, message] of cases) {
          for (
            const enqueue of [
              () => ex.enqueueTask(task, undefined, options as never),
              () => ex.enqueueTasks(task, [undefined], options as never)
            ]
          ) {
            const error = await caught(enqueue)
            expect(error).toBeInstanceOf(DurableTaskDefinitionError)
            expect(error.message).toContain(`enqueue options of task 'stamp'`)
            expect(error.message).toContain(message)
          }
        }
        expect(await rowsOf(storage)).toEqual([])
      }),
    TIMEOUT
  )
})
