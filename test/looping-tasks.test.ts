/**
 * Looping tasks on memory, SQLite and Postgres through the Promise facade: iterations run one after
 * the other, sleeping between them, until one is done (or `maxAttempts` ran); 50 iterations leave a
 * tree two levels deep; the sleep between iterations is stored, so a restart does not shorten it.
 */
import { describe, expect, it } from "vitest"
import { places, rowsOf, withPlace } from "./support/places.js"

const TIMEOUT = 60_000

describe.each(places)("looping tasks on %s", (_name, makePlace) => {
  it(
    "runs until an iteration is done, sleeping between iterations; or gives up after maxAttempts",
    () =>
      withPlace(makePlace, async (place, executor) => {
        const storage = place.open()
        const ex = await executor(storage)
        let calls = 0
        const poll = ex.task({
          id: "poll",
          timeoutMs: 5_000,
          run: (
            _ctx,
            goal: number
          ) => (++calls >= goal ? { isDone: true, output: `after ${calls}` } : { isDone: false })
        })
        const loop = ex.loopingTask("poll_loop", poll, 5, 100)
        const done = await (await ex.enqueueTask(loop, 3)).waitAndGetExecution({ pollingIntervalMs: 20 })
        expect(done).toMatchObject({ status: "completed", output: { isSuccess: true, output: "after 3" } })
        const iterations = (await rowsOf(storage)).filter((r) => r.taskId === "poll")
          .sort((a, b) => a.createdAt - b.createdAt)
        expect(iterations).toHaveLength(3)
        for (let i = 1; i < iterations.length; i++) {
          expect(iterations[i]!.startedAt! - iterations[i - 1]!.finishedAt!).toBeGreaterThanOrEqual(100)
        }
        calls = 0
        const never = await (await ex.enqueueTask(loop, 99)).waitAndGetExecution({ pollingIntervalMs: 20 })
        expect(never).toMatchObject({ status: "completed", output: { isSuccess: false } })
        expect(calls).toBe(5)
      }),
    TIMEOUT
  )

  it(
    "50 iterations: one looping execution whose children are the iterations (depth 2)",
    () =>
      withPlace(makePlace, async (place, executor) => {
        const storage = place.open()
        const ex = await executor(storage)
        const count = ex.task({
          id: "count",
          timeoutMs: 5_000,
          run: (ctx) => ({ isDone: ctx.executionId.endsWith("_i49"), output: ctx.executionId })
        })
        const loop = ex.loopingTask("count_loop", count, 60, 0)
        const handle = await ex.enqueueTask(loop, undefined)
        const done = await handle.waitAndGetExecution({ pollingIntervalMs: 20 })
        expect(done.status).toBe("completed")
        expect((done.output as { isSuccess: boolean }).isSuccess).toBe(true)
        const rows = await rowsOf(storage)
        expect(rows).toHaveLength(51)
        for (const row of rows) {
          if (row.executionId === handle.getExecutionId()) continue
          expect(row.parentExecutionId).toBe(handle.getExecutionId())
        }
        const tree = await ex.getExecutionTree(handle.getExecutionId())
        expect(tree.children.every((c) => c.children.length === 0)).toBe(true)
      }),
    TIMEOUT
  )

  it("a restart does not shorten the sleep between iterations", () =>
    withPlace(makePlace, async (place, executor) => {
      const define = (ex: Awaited<ReturnType<typeof executor>>) => {
        const step = ex.task({
          id: "step",
          timeoutMs: 5_000,
          run: (ctx) => ({ isDone: ctx.executionId.endsWith("_i1"), output: Date.now() })
        })
        return ex.loopingTask("step_loop", step, 3, 800)
      }
      const exOne = await executor(place.open())
      const handle = await exOne.enqueueTask(define(exOne), undefined)
      const storage = place.open()
      while (!(await rowsOf(storage)).some((r) => r.taskId === "step" && r.status === "completed")) {
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      await exOne.shutdown()
      const exTwo = await executor(place.open())
      const loop = define(exTwo)
      const done = await (await exTwo.getTaskHandle(loop, handle.getExecutionId())).waitAndGetExecution({
        pollingIntervalMs: 20
      })
      expect(done.status).toBe("completed")
      const steps = (await rowsOf(storage)).filter((r) => r.taskId === "step").sort((a, b) => a.createdAt - b.createdAt)
      expect(steps).toHaveLength(2)
      expect(steps[1]!.startedAt! - steps[0]!.finishedAt!).toBeGreaterThanOrEqual(800)
    }), TIMEOUT)
})
