/**
 * Retry and redrive through the facade, on memory, a SQLite file and Postgres: a failed execution
 * runs again with a fresh retry budget and its attempt history goes on counting; a retried parent
 * runs only its unsuccessful children again (a completed child never runs again) and then its
 * finalize task; a retried child re-opens its parent; waiters see the new outcome; a retry of a
 * completed, unfinished or unknown execution is refused with a typed error; bulk retries and
 * cancels by filter count what they did, over several batches.
 */
import { describe, expect, it } from "vitest"
import { DurableExecutionNotFoundError, DurableExecutionNotRetryableError, DurableQueryError } from "../src/index.js"
import { storages, useStorage } from "./values/storages.js"

describe.each(storages)("retry and redrive on %s", (_name, makeStorage) => {
  const { executor } = useStorage(makeStorage)

  it("runs a failed execution again with a fresh retry budget, keeping its attempt history", async () => {
    const ex = await executor()
    let failures = 3
    const flaky = ex.task({
      id: "flaky",
      timeoutMs: 1_000,
      retryOptions: { maxAttempts: 1, baseDelayMs: 0 },
      run: () => {
        if (failures-- > 0) throw new Error(`failure ${3 - failures}`)
        return "ok"
      }
    })
    const handle = await ex.enqueueTask(flaky)
    const failed = await handle.waitAndGetExecution()
    expect(failed.status).toBe("failed")
    const reopened = await ex.retryExecution(handle.getExecutionId())
    expect(["ready", "running", "completed"]).toContain(reopened.status)
    // Without a fresh budget the third run's failure would have been final.
    const done = await (await ex.getTaskHandle(flaky, handle.getExecutionId())).waitAndGetExecution()
    expect(done.status).toBe("completed")
    expect(done.output).toBe("ok")
    expect(done.attempts.map((a) => [a.attempt, a.status])).toEqual([
      [1, "ready"],
      [2, "failed"],
      [3, "ready"],
      [4, "completed"]
    ])
  })

  it("re-runs only a parent's unsuccessful children, then its finalize task; a retried child re-opens it", async () => {
    const ex = await executor()
    const runs: Record<string, number> = {}
    const count = (id: string) => (runs[id] = (runs[id] ?? 0) + 1)
    let bFails = 2
    const a = ex.task({ id: "a", timeoutMs: 1_000, run: () => (count("a"), "A") })
    const b = ex.task({
      id: "b",
      timeoutMs: 1_000,
      run: async () => {
        count("b")
        await new Promise((resolve) => setTimeout(resolve, 30))
        if (bFails-- > 0) throw new Error("b is down")
        return "B"
      }
    })
    const c = ex.task({
      id: "c",
      timeoutMs: 5_000,
      run: async (ctx) => {
        count("c")
        // Slow unless nothing makes it wait: cancelled when b fails.
        if (count("c-wait") <= 2) {
          await new Promise<void>((resolve) => ctx.cancelSignal.addEventListener("abort", () => resolve()))
        }
        return "C"
      }
    })
    const parent = ex.parentTask({
      id: "parent",
      timeoutMs: 1_000,
      runParent: () => (count("parent"), {
        output: "P",
        childrenTasks: [{ task: a, input: undefined }, { task: b, input: undefined }, { task: c, input: undefined }]
      }),
      finalizeTask: {
        id: "parent.finalize",
        timeoutMs: 1_000,
        run: (_ctx, { childrenTasksOutputs, output }) => (count("finalize"), {
          output,
          children: childrenTasksOutputs.map((o) => o.output)
        })
      }
    })
    const handle = await ex.enqueueTask(parent)
    const first = await handle.waitAndGetExecution()
    expect(first.status).toBe("children_tasks_failed")
    const tree = await ex.getExecutionTree(handle.getExecutionId())
    expect(tree.children.map((n) => n.execution.status)).toEqual(["completed", "failed", "cancelled"])

    // The parent: b and c run again, a does not; b fails again, so the parent fails again.
    await ex.retryExecution(handle.getExecutionId())
    const second = await handle.waitAndGetExecution()
    expect(second.status).toBe("children_tasks_failed")
    expect(runs).toMatchObject({ parent: 1, a: 1, b: 2, c: 2 })

    // The failed child itself: its parent re-opens, c runs again, and the tree completes.
    const bId = tree.children[1]!.execution.executionId
    await ex.retryExecution(bId)
    const third = await handle.waitAndGetExecution()
    expect(third.status).toBe("completed")
    expect(third.output).toEqual({ output: "P", children: ["A", "B", "C"] })
    expect(runs).toMatchObject({ parent: 1, a: 1, b: 3, c: 3, finalize: 1 })
    const after = await ex.getExecutionTree(handle.getExecutionId())
    expect(after.children.map((n) => n.execution.status)).toEqual(["completed", "completed", "completed"])
  })

  it("refuses a retry of a completed, unfinished or unknown execution", async () => {
    const ex = await executor()
    const quick = ex.task({ id: "quick", timeoutMs: 1_000, run: () => 1 })
    const stuck = ex.task({
      id: "stuck",
      timeoutMs: 5_000,
      run: (ctx) => new Promise<void>((resolve) => ctx.cancelSignal.addEventListener("abort", () => resolve()))
    })
    const done = await ex.enqueueTask(quick)
    await done.waitAndGetExecution()
    const refused = await ex.retryExecution(done.getExecutionId()).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(DurableExecutionNotRetryableError)
    expect((refused as DurableExecutionNotRetryableError).status).toBe("completed")
    expect((refused as Error).message).toContain("it is completed")

    const running = await ex.enqueueTask(stuck)
    for (let i = 0; i < 200 && (await running.getExecution()).status !== "running"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    const notYet = await ex.retryExecution(running.getExecutionId()).catch((e: unknown) => e)
    expect((notYet as DurableExecutionNotRetryableError).status).toBe("running")
    await running.cancel()

    await expect(ex.retryExecution("te_unknown")).rejects.toBeInstanceOf(DurableExecutionNotFoundError)
    await expect(ex.retryExecutions({ limit: 5 } as never)).rejects.toBeInstanceOf(DurableQueryError)
    await expect(ex.cancelExecutions({ status: "nope" as never })).rejects.toBeInstanceOf(DurableQueryError)
  })

  it("cancels and retries by filter, in batches, counting what it did", async () => {
    const ex = await executor({}, false) // not started: the executions stay ready
    const idle = ex.task({ id: "idle", timeoutMs: 1_000, run: () => 1 })
    const other = ex.task({ id: "other", timeoutMs: 1_000, run: () => 2 })
    const handles = await ex.enqueueTasks(idle, Array.from({ length: 250 }, () => undefined))
    await ex.enqueueTask(other)

    expect(await ex.cancelExecutions({ taskId: "idle" })).toEqual({ cancelled: 250, skipped: 0 })
    expect(await ex.cancelExecutions({ taskId: "idle" })).toEqual({ cancelled: 0, skipped: 0 })
    expect((await handles[123]!.getExecution()).status).toBe("cancelled")
    expect(await ex.countExecutions({ by: "status" })).toEqual({ cancelled: 250, ready: 1 })

    expect(await ex.retryExecutions({ taskId: "idle", status: "cancelled" })).toEqual({ retried: 250, skipped: 0 })
    expect(await ex.retryExecutions()).toEqual({ retried: 0, skipped: 0 })
    // A filter naming a status that cannot be retried matches, but retries nothing.
    expect(await ex.retryExecutions({ status: "ready" })).toEqual({ retried: 0, skipped: 251 })
    expect(await ex.countExecutions({ by: "status" })).toEqual({ ready: 251 })
    expect(await ex.cancelExecutions()).toEqual({ cancelled: 251, skipped: 0 })
  })
})
