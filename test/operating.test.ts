/**
 * Operating on stored executions through the facade, on memory, a SQLite file and Postgres:
 * listing with every filter, keyset pages with inserts between them, counts, the tree of a parent
 * with children and a finalize task, the attempt history after retries, and purges that never touch
 * a tree with an unfinished execution; the retention loop deletes what it is configured to.
 */
import { describe, expect, it } from "vitest"
import { type ExecutionRow, makeReady } from "../src/ExecutionRow.js"
import { DurableExecutionNotFoundError, type DurableExecutor, DurableQueryError } from "../src/index.js"
import { eventually } from "./support/wait.js"
import { storages, useStorage } from "./values/storages.js"

const spec = (taskId: string) => ({
  taskId,
  timeoutMs: 1_000,
  retry: { maxAttempts: 0, baseDelayMs: 0, delayMultiplier: 1, maxDelayMs: 0 },
  sleepMsBeforeRun: 0
})

/** A stored row of `taskId` created at `createdAt`, with any fields changed. */
const row = (executionId: string, taskId: string, createdAt: number, fields: Partial<ExecutionRow> = {}) => ({
  ...makeReady({ spec: spec(taskId), executionId, input: null, nowMs: createdAt }),
  ...fields
})

const finished = (at: number, status: ExecutionRow["status"] = "completed"): Partial<ExecutionRow> => ({
  status,
  isClosed: true,
  finishedAt: at,
  output: status === "completed" ? "1" : null
})

/** Every page of a listing, with `between` run after each page. */
const allPages = async (
  ex: DurableExecutor,
  options: Parameters<DurableExecutor["listExecutions"]>[0],
  between: (page: number) => Promise<void> = async () => {}
) => {
  const ids: Array<string> = []
  let cursor: string | undefined
  for (let page = 0; page < 100; page++) {
    const result = await ex.listExecutions({ ...options, ...(cursor === undefined ? {} : { cursor }) })
    ids.push(...result.executions.map((e) => e.executionId))
    if (result.nextCursor === null) return ids
    cursor = result.nextCursor
    await between(page)
  }
  throw new Error("more than 100 pages")
}

describe.each(storages)("operating on %s", (_name, makeStorage) => {
  const { executor, storage } = useStorage(makeStorage)

  it("lists newest first with each filter, and refuses bad filters naming the field", async () => {
    await storage().insert([
      row("a1", "alpha", 1_000),
      row("a2", "alpha", 2_000, finished(2_500)),
      row("b1", "beta", 3_000, finished(3_500, "failed")),
      row("b2", "beta", 3_000, finished(4_500, "cancelled"))
    ])
    await storage().insert([
      row("c1", "child", 3_100, { rootExecutionId: "b1", rootTaskId: "beta", parentExecutionId: "b1" }),
      row("c2", "child", 3_200, { rootExecutionId: "b1", rootTaskId: "beta", parentExecutionId: "c1" })
    ])
    const ex = await executor({}, false)
    const ids = async (options: Parameters<DurableExecutor["listExecutions"]>[0]) =>
      (await ex.listExecutions(options)).executions.map((e) => e.executionId)

    // Newest first; equal creation times by execution id, descending.
    expect(await ids({})).toEqual(["c2", "c1", "b2", "b1", "a2", "a1"])
    expect(await ids({ status: "ready" })).toEqual(["c2", "c1", "a1"])
    expect(await ids({ status: ["failed", "completed"] })).toEqual(["b1", "a2"])
    expect(await ids({ taskId: "beta" })).toEqual(["b2", "b1"])
    expect(await ids({ rootExecutionId: "b1" })).toEqual(["c2", "c1"])
    expect(await ids({ parentExecutionId: "c1" })).toEqual(["c2"])
    expect(await ids({ createdAfter: 2_000, createdBefore: new Date(3_200) })).toEqual(["c1", "b2", "b1"])
    expect(await ids({ finishedAfter: 2_500 })).toEqual(["b2", "b1"])
    expect(await ids({ finishedBefore: new Date(3_500) })).toEqual(["a2"])
    expect(await ids({ taskId: "nothing" })).toEqual([])

    const listed = (await ex.listExecutions({ taskId: "alpha", limit: 1 })).executions[0]!
    expect(listed).toMatchObject({ executionId: "a2", taskId: "alpha", status: "completed", output: 1 })
    expect(listed.createdAt).toEqual(new Date(2_000))

    const refusals: Array<[unknown, string]> = [
      [{ limit: 0 }, "limit"],
      [{ limit: 1_001 }, "limit"],
      [{ limit: 2.5 }, "limit"],
      [{ status: "done" }, "status"],
      [{ createdAfter: "yesterday" }, "createdAfter"],
      [{ finishedBefore: new Date(Number.NaN) }, "finishedBefore"],
      [{ cursor: "not a cursor" }, "cursor"],
      [{ taskId: "" }, "taskId"],
      [{ state: "ready" }, "state"]
    ]
    for (const [options, field] of refusals) {
      const error = await ex.listExecutions(options as never).then(() => undefined, (e: unknown) => e)
      expect(error, JSON.stringify(options)).toBeInstanceOf(DurableQueryError)
      expect((error as DurableQueryError).field).toBe(field)
    }
  })

  it("pages without duplicates or skips while executions are inserted between pages", async () => {
    const ex = await executor({}, false)
    const task = ex.task({ id: "paged", timeoutMs: 1_000, run: (_ctx, n: number) => n })
    // Creation times in groups of four, so that pages also end inside a group of equal times.
    const ids = Array.from({ length: 30 }, (_, i) => `e${String(i).padStart(2, "0")}`)
    await storage().insert(ids.map((id, i) => row(id, "paged", 1_000 + Math.floor(i / 4))))
    const expected = [...ids].sort((a, b) => Number(b.slice(1)) - Number(a.slice(1)))

    let added = 0
    const listed = await allPages(ex, { taskId: "paged", limit: 7 }, async () => {
      await ex.enqueueTasks(task, [1, 2])
      added += 2
    })
    expect(listed).toEqual(expected)
    expect(added).toBe(8)
    expect((await ex.listExecutions({ taskId: "paged", limit: 1_000 })).executions).toHaveLength(30 + added)
  })

  it("counts by status and by task id", async () => {
    await storage().insert([
      row("a1", "alpha", 1_000),
      row("a2", "alpha", 2_000, finished(2_500)),
      row("b1", "beta", 3_000, finished(3_500, "failed"))
    ])
    const ex = await executor({}, false)
    expect(await ex.countExecutions({ by: "status" })).toEqual({ ready: 1, completed: 1, failed: 1 })
    expect(await ex.countExecutions({ by: "taskId" })).toEqual({ alpha: 2, beta: 1 })
    await expect(ex.countExecutions({ by: "colour" } as never)).rejects.toThrow(DurableQueryError)
  })

  it("returns the tree of a parent with its children and finalize task, with statuses", async () => {
    const ex = await executor()
    const child = ex.task({ id: "child", timeoutMs: 1_000, run: (_ctx, n: number) => n * 2 })
    const fails = ex.task({
      id: "fails",
      timeoutMs: 1_000,
      run: () => {
        throw new Error("no")
      }
    })
    const parent = ex.parentTask({
      id: "parent",
      timeoutMs: 1_000,
      runParent: () => ({ output: 0, childrenTasks: [{ task: child, input: 1 }, { task: child, input: 2 }] }),
      finalizeTask: {
        id: "sum",
        timeoutMs: 1_000,
        run: (_ctx, { childrenTasksOutputs }) => childrenTasksOutputs.length
      }
    })
    const broken = ex.parentTask({
      id: "broken",
      timeoutMs: 1_000,
      runParent: () => ({ output: 0, childrenTasks: [{ task: child, input: 3 }, { task: fails, input: undefined }] })
    })
    const handle = await ex.enqueueTask(parent)
    expect((await handle.waitAndGetExecution()).status).toBe("completed")
    const tree = await ex.getExecutionTree(handle.getExecutionId())
    expect(tree.execution).toMatchObject({ executionId: handle.getExecutionId(), status: "completed", output: 2 })
    expect(tree.children.map((c) => [c.execution.taskId, c.execution.status, c.execution.output])).toEqual([
      ["child", "completed", 2],
      ["child", "completed", 4]
    ])
    expect(tree.children.every((c) => c.children.length === 0 && c.finalize === undefined)).toBe(true)
    expect(tree.finalize?.execution).toMatchObject({ taskId: "sum", status: "completed", output: 2 })

    const failed = await ex.enqueueTask(broken)
    expect((await failed.waitAndGetExecution()).status).toBe("children_tasks_failed")
    const brokenTree = await ex.getExecutionTree(failed.getExecutionId())
    expect(brokenTree.children.map((c) => c.execution.status).sort()).toContain("failed")
    // Any execution's subtree.
    const sub = await ex.getExecutionTree(tree.children[1]!.execution.executionId)
    expect(sub.execution.output).toBe(4)
    await expect(ex.getExecutionTree("te_missing")).rejects.toThrow(DurableExecutionNotFoundError)
  })

  it("keeps each attempt: times, executor, outcome, and the error with its stack", async () => {
    const ex = await executor({ executorId: "ex-attempts" })
    let calls = 0
    const flaky = ex.task({
      id: "flaky",
      timeoutMs: 1_000,
      retryOptions: { maxAttempts: 2, baseDelayMs: 1, delayMultiplier: 1, maxDelayMs: 1 },
      run: () => {
        calls++
        if (calls < 3) throw new TypeError(`attempt ${calls} failed`)
        return "ok"
      }
    })
    const deep = ex.task({
      id: "deep",
      timeoutMs: 1_000,
      run: () => {
        const error = new Error("deep")
        error.stack = `Error: deep\n${"    at frame (file.js:1:1)\n".repeat(1_000)}`
        throw error
      }
    })
    const done = await (await ex.enqueueTask(flaky)).waitAndGetExecution()
    expect(done.status).toBe("completed")
    expect(done.attemptCount).toBe(3)
    expect(done.attempts.map((a) => [a.attempt, a.status, a.executorId])).toEqual([
      [1, "ready", "ex-attempts"],
      [2, "ready", "ex-attempts"],
      [3, "completed", "ex-attempts"]
    ])
    expect(done.attempts[0]!.error).toMatchObject({ errorType: "generic", message: "attempt 1 failed" })
    expect(done.attempts[0]!.error?.stack).toMatch(/^TypeError: attempt 1 failed\n\s+at /)
    expect(done.attempts[2]!.error).toBeUndefined()
    for (const a of done.attempts) expect(a.startedAt.getTime()).toBeLessThanOrEqual(a.finishedAt.getTime())
    expect(done.attempts[1]!.startedAt.getTime()).toBeGreaterThanOrEqual(done.attempts[0]!.finishedAt.getTime())
    // The row's own error carries no stack: the history does.
    expect(done.error).toBeUndefined()

    const failed = await (await ex.enqueueTask(deep)).waitAndGetExecution()
    expect(failed.status).toBe("failed")
    expect(failed.error).toEqual({ errorType: "generic", message: "deep", isRetryable: true })
    expect(failed.attempts[0]!.error!.stack!.length).toBe(8_192)
    // The same through a listing.
    const listed = await ex.listExecutions({ taskId: "flaky" })
    expect(listed.executions[0]!.attempts).toEqual(done.attempts)
  })

  it("purges whole finished trees only, never a row of a tree with an unfinished execution", async () => {
    await storage().insert([
      row("done", "t", 1_000, finished(1_500)),
      row("bad", "t", 1_000, finished(1_600, "failed")),
      row("open", "t", 1_000, finished(1_700)),
      row("late", "t", 1_000, finished(9_000)),
      row("live", "t", 1_000)
    ])
    await storage().insert([
      row("done.c", "c", 1_100, { ...finished(1_400), rootExecutionId: "done", parentExecutionId: "done" }),
      row("done.c.c", "c", 1_200, { ...finished(1_300), rootExecutionId: "done", parentExecutionId: "done.c" }),
      // A finished root whose tree still has a running execution: kept whole.
      row("open.c", "c", 1_100, { ...finished(1_400), rootExecutionId: "open", parentExecutionId: "open" }),
      row("open.c.c", "c", 1_200, { status: "running", rootExecutionId: "open", parentExecutionId: "open.c" })
    ])
    const ex = await executor({}, false)
    const remaining = async () => (await storage().rows()).map((r) => r.executionId).sort()

    expect(await ex.purgeExecutions({ finishedBefore: 5_000, status: "failed" })).toBe(1)
    expect(await remaining()).toEqual(["done", "done.c", "done.c.c", "late", "live", "open", "open.c", "open.c.c"])
    expect(await ex.purgeExecutions({ finishedBefore: new Date(5_000) })).toBe(3)
    expect(await remaining()).toEqual(["late", "live", "open", "open.c", "open.c.c"])
    expect(await ex.purgeExecutions({ finishedBefore: 5_000 })).toBe(0)
    await expect(ex.purgeExecutions({ finishedBefore: 5_000, status: "running" })).rejects.toThrow(DurableQueryError)
    await expect(ex.purgeExecutions({} as never)).rejects.toThrow(/finishedBefore/)
  })

  it("purges in batches: more trees than one batch holds", async () => {
    await storage().insert(Array.from({ length: 250 }, (_, i) => row(`r${i}`, "t", 1_000, finished(2_000 + i))))
    const ex = await executor({}, false)
    expect(await ex.purgeExecutions({ finishedBefore: 2_200 })).toBe(200)
    expect(await storage().rows()).toHaveLength(50)
  })

  it("retention deletes completed trees older than completedMs and keeps unsuccessful ones", async () => {
    await storage().insert([
      row("old", "t", 1_000, finished(1_500)),
      row("oldbad", "t", 1_000, finished(1_500, "failed"))
    ])
    const ex = await executor({ retention: { completedMs: 60_000 } })
    const task = ex.task({ id: "recent", timeoutMs: 1_000, run: () => 1 })
    const recent = await ex.enqueueTask(task)
    await recent.waitAndGetExecution()
    const kept = ["oldbad", recent.getExecutionId()].sort()
    await eventually(async () =>
      JSON.stringify((await storage().rows()).map((r) => r.executionId).sort()) ===
        JSON.stringify(kept)
    )
  })
})
