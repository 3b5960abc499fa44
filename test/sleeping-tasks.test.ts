/**
 * Sleeping tasks on memory, SQLite and Postgres through the Promise facade: a sleeping child holds
 * no executor slot and no lease; a wakeup completes or fails it once (a second one, or one after the
 * timeout, changes nothing and returns it as it finished); an unknown id is not found; one not woken
 * ends timed_out after its timeout, also across a restart; one id enqueued twice is one execution;
 * a wakeup from another storage on the same data (another process) reaches a parent's child.
 */
import { describe, expect, it } from "vitest"
import { DurableExecutionNotFoundError, DurableTaskDefinitionError } from "../src/index.js"
import { caught } from "./support/caught.js"
import { places, rowsOf, withPlace } from "./support/places.js"

const TIMEOUT = 30_000
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Calls `wakeup` until the execution exists (its parent may not have run yet). */
const untilFound = async <A>(wakeup: () => Promise<A>): Promise<A> => {
  for (;;) {
    try {
      return await wakeup()
    } catch (e) {
      if (!(e instanceof DurableExecutionNotFoundError)) throw e
      await sleep(20)
    }
  }
}

describe.each(places)("sleeping tasks on %s", (_name, makePlace) => {
  it(
    "a parent's sleeping child: no slot, no lease; woken once, the parent completes with its output",
    () =>
      withPlace(makePlace, async (place, executor) => {
        const storage = place.open()
        const ex = await executor(storage, { maxConcurrentTaskExecutions: 1 })
        const waitForWebhook = ex.sleepingTask<string>({ id: "wait_for_webhook", timeoutMs: 3_600_000 })
        const parent = ex.parentTask({
          id: "order",
          timeoutMs: 5_000,
          runParent: (_ctx, entityId: string) => ({
            output: `order ${entityId}`,
            childrenTasks: [{ task: waitForWebhook, input: entityId }]
          })
        })
        const other = ex.task({ id: "other", timeoutMs: 5_000, run: () => "ran" })
        const handle = await ex.enqueueTask(parent, "e-1")
        let rows = await rowsOf(storage)
        while (!rows.some((r) => r.taskId === "wait_for_webhook")) {
          await sleep(20)
          rows = await rowsOf(storage)
        }
        const sleeping = rows.find((r) => r.taskId === "wait_for_webhook")!
        expect(sleeping).toMatchObject({ status: "running", sleepId: "e-1", leaseId: null, executorId: null })
        // The only slot is free: another task runs while the child sleeps.
        const otherDone = await (await ex.enqueueTask(other)).waitAndGetExecution({ pollingIntervalMs: 20 })
        expect(otherDone.output).toBe("ran")

        const woken = await ex.wakeupSleepingTaskExecution(waitForWebhook, "e-1", {
          status: "completed",
          output: "paid"
        })
        expect(woken).toMatchObject({ status: "completed", output: "paid", executionId: sleeping.executionId })
        const done = await handle.waitAndGetExecution({ pollingIntervalMs: 20 })
        expect(done.status).toBe("completed")
        expect(done.output).toMatchObject({ output: "order e-1", childrenOutputs: [{ output: "paid" }] })
        // A second wakeup changes nothing and says how it had finished.
        const again = await ex.wakeupSleepingTaskExecution(waitForWebhook, "e-1", {
          status: "failed",
          error: new Error("late")
        })
        expect(again).toMatchObject({ status: "completed", output: "paid" })
        expect((await rowsOf(storage)).find((r) => r.executionId === sleeping.executionId)!.output).toBe("\"paid\"")
        // An id no execution holds is not found.
        const missing = await caught(() =>
          ex.wakeupSleepingTaskExecution(waitForWebhook, "nobody", { status: "completed", output: "x" })
        )
        expect(missing).toBeInstanceOf(DurableExecutionNotFoundError)
      }),
    TIMEOUT
  )

  it(
    "a failed wakeup fails the child, and the parent with children_tasks_failed",
    () =>
      withPlace(makePlace, async (place, executor) => {
        const ex = await executor(place.open())
        const wait = ex.sleepingTask<number>({ id: "wait", timeoutMs: 60_000 })
        const parent = ex.parentTask({
          id: "p",
          timeoutMs: 5_000,
          runParent: () => ({ output: 0, childrenTasks: [{ task: wait, input: "a" }, { task: wait, input: "b" }] })
        })
        const handle = await ex.enqueueTask(parent)
        const woken = await untilFound(() =>
          ex.wakeupSleepingTaskExecution(wait, "a", { status: "failed", error: new Error("card declined") })
        )
        expect(woken).toMatchObject({ status: "failed", error: { message: "card declined" } })
        const done = await handle.waitAndGetExecution({ pollingIntervalMs: 20 })
        expect(done.status).toBe("children_tasks_failed")
        // The sibling was cancelled with its parent; waking it now changes nothing.
        const sibling = await ex.wakeupSleepingTaskExecution(wait, "b", { status: "completed", output: 1 })
        expect(sibling.status).toBe("cancelled")
      }),
    TIMEOUT
  )

  it(
    "not woken: timed_out after its timeout, also across a restart; a later wakeup changes nothing",
    () =>
      withPlace(makePlace, async (place, executor) => {
        const first = place.open()
        const exOne = await executor(first)
        const wait = exOne.sleepingTask<string>({ id: "wait", timeoutMs: 600 })
        const handle = await exOne.enqueueTask(wait, "slow")
        const enqueuedAt = Date.now()
        await exOne.shutdown()
        const exTwo = await executor(place.open())
        const waitTwo = exTwo.sleepingTask<string>({ id: "wait", timeoutMs: 600 })
        const done = await exTwo.getTaskHandle(waitTwo, handle.getExecutionId())
          .then((h) => h.waitAndGetExecution({ pollingIntervalMs: 20 }))
        expect(Date.now() - enqueuedAt).toBeGreaterThanOrEqual(590)
        expect(done).toMatchObject({ status: "timed_out", error: { errorType: "timed_out" } })
        const late = await exTwo.wakeupSleepingTaskExecution(waitTwo, "slow", { status: "completed", output: "x" })
        expect(late.status).toBe("timed_out")
      }),
    TIMEOUT
  )

  it(
    "one id enqueued twice is one execution; a bad id is refused",
    () =>
      withPlace(makePlace, async (place, executor) => {
        const storage = place.open()
        const ex = await executor(storage)
        const wait = ex.sleepingTask<number>({ id: "wait", timeoutMs: 60_000 })
        const a = await ex.enqueueTask(wait, "same")
        const b = await ex.enqueueTask(wait, "same")
        expect(b.getExecutionId()).toBe(a.getExecutionId())
        expect(await rowsOf(storage)).toHaveLength(1)
        await ex.wakeupSleepingTaskExecution(wait, "same", { status: "completed", output: 7 })
        expect(await a.waitAndGetExecution({ pollingIntervalMs: 20 })).toMatchObject({ status: "completed", output: 7 })
        expect(await caught(() => ex.enqueueTask(wait, "" as string))).toHaveProperty("name")
        expect(() => ex.sleepingTask({ id: "bad", timeoutMs: -1 })).toThrow(DurableTaskDefinitionError)
      }),
    TIMEOUT
  )

  it(
    "two storages on the same data (two processes): a parent's child sleeps on one, the wakeup comes from the other",
    () =>
      withPlace(makePlace, async (place, executor) => {
        const [one, two] = [place.open(), place.open()]
        const exOne = await executor(one)
        const exTwo = await executor(two)
        const waitOne = exOne.sleepingTask<string>({ id: "hook", timeoutMs: 60_000 })
        const parent = exOne.parentTask({
          id: "flow",
          timeoutMs: 5_000,
          runParent: (_ctx, id: string) => ({ output: id, childrenTasks: [{ task: waitOne, input: id }] })
        })
        // Only the first defines the parent: it runs there; the second only wakes up.
        const waitTwo = exTwo.sleepingTask<string>({ id: "hook", timeoutMs: 60_000 })
        const handle = await exOne.enqueueTask(parent, "x-9")
        const results = [
          await untilFound(() =>
            exTwo.wakeupSleepingTaskExecution(waitTwo, "x-9", { status: "completed", output: "from two" })
          )
        ]
        // Racing second wakeups from both sides: none changes the outcome.
        results.push(
          ...await Promise.all([
            exOne.wakeupSleepingTaskExecution(waitOne, "x-9", { status: "completed", output: "from one" }),
            exTwo.wakeupSleepingTaskExecution(waitTwo, "x-9", { status: "failed", error: "no" })
          ])
        )
        for (const r of results) expect(r).toMatchObject({ status: "completed", output: "from two" })
        const done = await handle.waitAndGetExecution({ pollingIntervalMs: 20 })
        expect(done.output).toMatchObject({ output: "x-9", childrenOutputs: [{ output: "from two" }] })
      }),
    TIMEOUT
  )
})
