/**
 * Lifecycle behaviour through the Promise facade, with real short timeouts: non-retryable errors,
 * cancellation (before start, while running, of a parent), failed children and finalize tasks,
 * timeouts' cancel signal, and graceful shutdown.
 */
import { describe, expect, it } from "vitest"
import {
  DurableExecutionError,
  DurableExecutor,
  DurableExecutorShutdownError,
  type DurableTaskRunContext,
  DurableWaitAbortedError
} from "../src/index.js"
import { eventually, inspectableStorage, sleep, withExecutor } from "./support/facade.js"

/** Resolves when `signal` aborts. */
const aborted = (signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve()
    signal.addEventListener("abort", () => resolve(), { once: true })
  })

describe("non-retryable errors", () => {
  it("a DurableExecutionError with isRetryable false fails at once despite retries left", () =>
    withExecutor(async (executor) => {
      let runs = 0
      const task = executor.task({
        id: "fatal",
        timeoutMs: 1_000,
        retryOptions: { maxAttempts: 5 },
        run: () => {
          runs++
          throw new DurableExecutionError("the input can never work", false)
        }
      })
      const done = await (await executor.enqueueTask(task, undefined)).waitAndGetExecution()
      expect(done.status).toBe("failed")
      expect(done.error).toEqual({ errorType: "generic", message: "the input can never work", isRetryable: false })
      expect(done.retryAttempts).toBe(0)
      expect(runs).toBe(1)
    }))

  it("any other thrown error is retried", () =>
    withExecutor(async (executor) => {
      let runs = 0
      const task = executor.task({
        id: "flaky",
        timeoutMs: 1_000,
        retryOptions: { maxAttempts: 2 },
        run: () => {
          runs++
          throw new Error(`failure ${runs}`)
        }
      })
      const done = await (await executor.enqueueTask(task, undefined)).waitAndGetExecution()
      expect(done.status).toBe("failed")
      expect(done.error).toEqual({ errorType: "generic", message: "failure 3", isRetryable: true })
      expect(runs).toBe(3)
    }))
})

describe("timeouts", () => {
  it("a run past timeoutMs ends timed_out and its cancelSignal fires", () =>
    withExecutor(async (executor) => {
      let signalFired = false
      const task = executor.task({
        id: "slow",
        timeoutMs: 50,
        run: async (ctx) => {
          await aborted(ctx.cancelSignal)
          signalFired = true
          return "too late"
        }
      })
      const done = await (await executor.enqueueTask(task, undefined)).waitAndGetExecution()
      expect(done.status).toBe("timed_out")
      expect(done.error?.errorType).toBe("timed_out")
      expect(done.output).toBeUndefined()
      await eventually(() => signalFired)
    }))
})

describe("cancel", () => {
  it("before start: the execution ends cancelled and never runs", async () => {
    const { rows, storage } = inspectableStorage()
    const executor = new DurableExecutor(storage, { logLevel: "none" })
    let runs = 0
    const task = executor.task({ id: "never", timeoutMs: 1_000, run: () => void runs++ })
    try {
      const handle = await executor.enqueueTask(task, undefined)
      expect((await handle.getExecution()).status).toBe("ready")
      await handle.cancel()
      const cancelled = await handle.getExecution()
      expect(cancelled.status).toBe("cancelled")
      expect(cancelled.isClosed).toBe(true)
      expect(cancelled.error).toEqual({ errorType: "cancelled", message: "cancelled by the user", isRetryable: false })
      await executor.start()
      await sleep(50)
      expect(runs).toBe(0)
      expect(rows().map((r) => r.status)).toEqual(["cancelled"])
      // Cancelling again changes nothing.
      await handle.cancel()
      expect((await handle.getExecution()).updatedAt).toEqual(cancelled.updatedAt)
    } finally {
      await executor.shutdown()
    }
  })

  it("while running: the run's cancelSignal fires and its late result is dropped", () =>
    withExecutor(async (executor) => {
      let started = false
      let signalFired = false
      const task = executor.task({
        id: "blocking",
        timeoutMs: 10_000,
        run: async (ctx) => {
          started = true
          await aborted(ctx.cancelSignal)
          signalFired = true
          return "late result"
        }
      })
      const handle = await executor.enqueueTask(task, undefined)
      await eventually(() => started)
      await handle.cancel()
      await eventually(() => signalFired)
      await sleep(20)
      const done = await handle.getExecution()
      expect(done.status).toBe("cancelled")
      expect(done.output).toBeUndefined()
      expect(done.error?.errorType).toBe("cancelled")
      expect(done.needsPromiseCancellation).toBe(true)
    }))

  it("of a parent: its running children end cancelled and their signals fire", () =>
    withExecutor(async (executor) => {
      const childSignals: Array<AbortSignal> = []
      const child = executor.task({
        id: "child",
        timeoutMs: 10_000,
        run: async (ctx, _input: number) => {
          childSignals.push(ctx.cancelSignal)
          await aborted(ctx.cancelSignal)
          return "never stored"
        }
      })
      const parent = executor.parentTask({
        id: "parent",
        timeoutMs: 10_000,
        runParent: () => ({ output: "p", childrenTasks: [{ task: child, input: 1 }, { task: child, input: 2 }] }),
        finalizeTask: { id: "parentFinalize", timeoutMs: 1_000, run: () => "never runs" }
      })
      const handle = await executor.enqueueTask(parent, undefined)
      await eventually(() => childSignals.length === 2)
      const waiting = await handle.getExecution()
      expect(waiting.status).toBe("waiting_for_children_tasks")
      await handle.cancel()
      expect((await handle.getExecution()).status).toBe("cancelled")
      await eventually(() => childSignals.every((s) => s.aborted))
      for (const ref of waiting.childrenTaskExecutions!) {
        const childExecution = await (await executor.getTaskHandle(child, ref.executionId)).getExecution()
        expect(childExecution.status).toBe("cancelled")
        expect(childExecution.error?.message).toContain("parent task 'parent'")
      }
      await sleep(20)
      expect((await handle.getExecution()).finalizeTaskExecution).toBeUndefined()
    }))
})

describe("failures in a tree", () => {
  it("a failed child fails its parent with children_tasks_failed and cancels its running siblings", () =>
    withExecutor(async (executor, rows) => {
      let siblingSignal: AbortSignal | undefined
      let releaseFailure: () => void = () => {}
      const siblingStarted = new Promise<void>((resolve) => (releaseFailure = resolve))
      const failing = executor.task({
        id: "failing",
        timeoutMs: 5_000,
        run: async () => {
          await siblingStarted
          throw new DurableExecutionError("child broke", false)
        }
      })
      const sibling = executor.task({
        id: "sibling",
        timeoutMs: 5_000,
        run: async (ctx: DurableTaskRunContext) => {
          siblingSignal = ctx.cancelSignal
          releaseFailure()
          await aborted(ctx.cancelSignal)
          return "never stored"
        }
      })
      const parent = executor.parentTask({
        id: "parent",
        timeoutMs: 5_000,
        runParent: () => ({
          output: "p",
          childrenTasks: [{ task: failing, input: undefined }, { task: sibling, input: undefined }]
        }),
        finalizeTask: { id: "parentFinalize", timeoutMs: 1_000, run: () => "never runs" }
      })
      const done = await (await executor.enqueueTask(parent, undefined)).waitAndGetExecution()
      expect(done.status).toBe("children_tasks_failed")
      expect(done.error?.message).toContain("child task 'failing'")
      expect(done.error?.message).toContain("child broke")
      await eventually(() => siblingSignal?.aborted === true)
      const byTask = new Map(rows().map((r) => [r.taskId, r]))
      expect(byTask.get("failing")?.status).toBe("failed")
      expect(byTask.get("sibling")?.status).toBe("cancelled")
      expect(byTask.has("parentFinalize")).toBe(false)
    }))

  it("a failed finalize task fails its parent with finalize_task_failed", () =>
    withExecutor(async (executor, rows) => {
      const child = executor.task({ id: "child", timeoutMs: 1_000, run: () => "fine" })
      const parent = executor.parentTask({
        id: "parent",
        timeoutMs: 1_000,
        runParent: () => ({ output: "p", childrenTasks: [{ task: child, input: undefined }] }),
        finalizeTask: {
          id: "parentFinalize",
          timeoutMs: 1_000,
          run: () => {
            throw new DurableExecutionError("cannot combine", false)
          }
        }
      })
      const done = await (await executor.enqueueTask(parent, undefined)).waitAndGetExecution()
      expect(done.status).toBe("finalize_task_failed")
      expect(done.error?.message).toContain("finalize task 'parentFinalize'")
      expect(done.error?.message).toContain("cannot combine")
      expect(done.output).toBeUndefined()
      const finalize = rows().find((r) => r.executionId === done.finalizeTaskExecution?.executionId)
      expect(finalize?.taskId).toBe("parentFinalize")
      expect(finalize?.status).toBe("failed")
    }))
})

describe("waiting", () => {
  it("waitAndGetExecution rejects with DurableWaitAbortedError when its signal aborts, and the execution goes on", () =>
    withExecutor(async (executor) => {
      let release: () => void = () => {}
      const gate = new Promise<void>((resolve) => (release = resolve))
      const task = executor.task({ id: "gated", timeoutMs: 5_000, run: async () => (await gate, "done") })
      const handle = await executor.enqueueTask(task, undefined)
      const controller = new AbortController()
      const waiting = handle.waitAndGetExecution({ signal: controller.signal })
      await sleep(20)
      controller.abort()
      await expect(waiting).rejects.toBeInstanceOf(DurableWaitAbortedError)
      release()
      expect((await handle.waitAndGetExecution()).output).toBe("done")
    }))
})

describe("shutdown", () => {
  it("waits for running tasks and fires their shutdownSignal", async () => {
    const { rows, storage } = inspectableStorage()
    const executor = new DurableExecutor(storage, { logLevel: "none" })
    let started = false
    let finished = false
    const task = executor.task({
      id: "graceful",
      timeoutMs: 10_000,
      run: async (ctx) => {
        started = true
        await aborted(ctx.shutdownSignal)
        await sleep(30) // some cleanup after the signal
        finished = true
        return "stopped cleanly"
      }
    })
    await executor.start()
    const handle = await executor.enqueueTask(task, undefined)
    await eventually(() => started)
    await executor.shutdown()
    expect(finished).toBe(true)
    const [row] = rows()
    expect(row?.status).toBe("completed")
    expect(row?.output).toBe(JSON.stringify("stopped cleanly"))
    await expect(executor.enqueueTask(task, undefined)).rejects.toBeInstanceOf(DurableExecutorShutdownError)
    await expect(executor.start()).rejects.toBeInstanceOf(DurableExecutorShutdownError)
    expect(handle.getExecutionId()).toBe(row?.executionId)
  })

  it("after the grace period, interrupts what still runs and releases it for another executor", async () => {
    const { rows, storage } = inspectableStorage()
    const first = new DurableExecutor(storage, { logLevel: "none", shutdownGracePeriodMs: 50 })
    let runs = 0
    const define = (executor: DurableExecutor) =>
      executor.task({
        id: "stubborn",
        timeoutMs: 10_000,
        run: async (ctx) => {
          runs++
          if (runs === 1) await new Promise<void>(() => {}) // ignores the shutdown signal
          return `run ${runs} on attempt ${ctx.attempt}`
        }
      })
    const task = define(first)
    await first.start()
    await first.enqueueTask(task, undefined)
    await eventually(() => runs === 1)
    await first.shutdown()
    expect(rows().map((r) => r.status)).toEqual(["ready"])

    const second = new DurableExecutor(storage, { logLevel: "none" })
    const again = define(second)
    await second.start()
    try {
      const handle = await second.getTaskHandle(again, rows()[0]!.executionId)
      const done = await handle.waitAndGetExecution()
      expect(done.status).toBe("completed")
      expect(done.output).toBe("run 2 on attempt 0") // a release is not a failed attempt
    } finally {
      await second.shutdown()
    }
  })
})
