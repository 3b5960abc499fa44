/**
 * Every example of the seed README (`durable-execution`), run through the Promise facade with its
 * documented output. A fresh executor and storage per test, real timers.
 */
import * as Schema from "effect/Schema"
import { describe, expect, it } from "vitest"
import { z } from "zod"
import { createInMemoryStorage, DurableExecutor, type DurableTask } from "../src/index.js"

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** A started executor on a fresh in-memory storage, shut down after `body`. */
const withExecutor = async (body: (executor: DurableExecutor) => Promise<void>): Promise<void> => {
  const executor = new DurableExecutor(createInMemoryStorage(), { logLevel: "none" })
  await executor.start()
  try {
    await body(executor)
  } finally {
    await executor.shutdown()
  }
}

/** Enqueues, waits, and returns the finished execution. */
const runToEnd = async <I, O>(executor: DurableExecutor, task: DurableTask<I, O>, input: I) => {
  const handle = await executor.enqueueTask(task, input)
  return await handle.waitAndGetExecution()
}

describe("README: Usage", () => {
  it("uploadFile workflow: parallel children, finalize, handle lifecycle", async () => {
    const executor = new DurableExecutor(createInMemoryStorage(), { logLevel: "none" })
    const isValidFilePath = (filePath: string) => filePath.length > 0 && !filePath.includes("\0")
    const seen: Array<string> = []

    const extractFileTitle = executor
      .inputSchema(z.object({ filePath: z.string() }))
      .task({
        id: "extractFileTitle",
        timeoutMs: 30_000,
        run: async (_ctx, input) => {
          seen.push(`extract:${input.filePath}`)
          return { title: "File Title" }
        }
      })

    const summarizeFile = executor
      .validateInput(async (input: { filePath: string }) => {
        if (!isValidFilePath(input.filePath)) throw new Error("Invalid file path")
        return { filePath: input.filePath }
      })
      .task({
        id: "summarizeFile",
        timeoutMs: 30_000,
        run: async (_ctx, input) => {
          seen.push(`summarize:${input.filePath}`)
          return { summary: "File summary" }
        }
      })

    const uploadFile = executor
      .inputSchema(z.object({ filePath: z.string(), uploadUrl: z.string() }))
      .parentTask({
        id: "uploadFile",
        timeoutMs: 60_000,
        runParent: async (_ctx, input) => ({
          output: { filePath: input.filePath, uploadUrl: input.uploadUrl, fileSize: 100 },
          childrenTasks: [
            { task: extractFileTitle, input: { filePath: input.filePath } },
            { task: summarizeFile, input: { filePath: input.filePath } }
          ]
        }),
        finalizeTask: {
          id: "onUploadFileAndChildrenComplete",
          timeoutMs: 60_000,
          run: async (_ctx, { childrenTasksOutputs, input, output }) => ({
            filePath: input.filePath,
            uploadUrl: input.uploadUrl,
            fileSize: output.fileSize,
            title: (childrenTasksOutputs[0]!.output as { title: string }).title,
            summary: (childrenTasksOutputs[1]!.output as { summary: string }).summary
          })
        }
      })

    const results: Record<string, unknown> = {}
    const app = async () => {
      const handle = await executor.enqueueTask(uploadFile, { filePath: "file.txt", uploadUrl: "https://example.com/upload" })
      const execution = await handle.getExecution()
      const finished = await handle.waitAndGetExecution()
      await handle.cancel()
      results.execution = execution
      results.finished = finished
      results.afterCancel = await handle.getExecution()
    }

    await Promise.all([executor.start(), app()])
    await executor.shutdown()

    const execution = results.execution as Awaited<ReturnType<typeof runToEnd>>
    expect(execution.taskId).toBe("uploadFile")
    expect(execution.executionId).toMatch(/^te_/)
    expect(["ready", "running", "waiting_for_children_tasks", "waiting_for_finalize_task", "completed"]).toContain(execution.status)
    expect(execution.runInput).toEqual({ filePath: "file.txt", uploadUrl: "https://example.com/upload" })

    const expected = {
      filePath: "file.txt",
      uploadUrl: "https://example.com/upload",
      fileSize: 100,
      title: "File Title",
      summary: "File summary"
    }
    const finished = results.finished as typeof execution
    expect(finished.status).toBe("completed")
    expect(finished.output).toEqual(expected)
    expect(finished.childrenTaskExecutions?.map((c) => c.taskId)).toEqual(["extractFileTitle", "summarizeFile"])
    expect(finished.finalizeTaskExecution?.taskId).toBe("onUploadFileAndChildrenComplete")
    expect(seen.sort()).toEqual(["extract:file.txt", "summarize:file.txt"])
    // Cancelling a finished execution changes nothing.
    const afterCancel = results.afterCancel as typeof execution
    expect(afterCancel.status).toBe("completed")
    expect(afterCancel.output).toEqual(expected)
  })
})

describe("README: Task examples", () => {
  it("simple sync task", () =>
    withExecutor(async (executor) => {
      const taskA = executor.task({
        id: "a",
        timeoutMs: 1000,
        run: (_ctx, input: { name: string }) => `Hello, ${input.name}!`
      })
      const execution = await runToEnd(executor, taskA, { name: "world" })
      expect(execution.status).toBe("completed")
      expect(execution.output).toBe("Hello, world!")
    }))

  it("simple async task", () =>
    withExecutor(async (executor) => {
      const taskA = executor.task({
        id: "a",
        timeoutMs: 1000,
        run: async (_ctx, input: { name: string }) => {
          await sleep(1)
          return `Hello, ${input.name}!`
        }
      })
      const execution = await runToEnd(executor, taskA, { name: "world" })
      expect(execution.status).toBe("completed")
      expect(execution.output).toBe("Hello, world!")
    }))

  it("validate input", () =>
    withExecutor(async (executor) => {
      const taskA = executor
        .validateInput((input: { name: string }) => {
          if (input.name !== "world") throw new Error("Invalid input")
          return input
        })
        .task({
          id: "a",
          timeoutMs: 1000,
          run: (_ctx, input) => `Hello, ${input.name}!`
        })
      const execution = await runToEnd(executor, taskA, { name: "world" })
      expect(execution.status).toBe("completed")
      expect(execution.output).toBe("Hello, world!")
      await expect(executor.enqueueTask(taskA, { name: "moon" })).rejects.toThrow("Invalid input")
    }))

  it("validate input with schema (zod)", () =>
    withExecutor(async (executor) => {
      const taskA = executor.inputSchema(z.object({ name: z.string() })).task({
        id: "a",
        timeoutMs: 1000,
        run: (_ctx, input) => `Hello, ${input.name}!`
      })
      const execution = await runToEnd(executor, taskA, { name: "world" })
      expect(execution.status).toBe("completed")
      expect(execution.output).toBe("Hello, world!")
      await expect(executor.enqueueTask(taskA, { name: 42 } as never)).rejects.toThrow(/name/)
    }))

  it("validate input with schema (effect Schema)", () =>
    withExecutor(async (executor) => {
      const taskA = executor.inputSchema(Schema.Struct({ name: Schema.String })).task({
        id: "a",
        timeoutMs: 1000,
        run: (_ctx, input) => `Hello, ${input.name}!`
      })
      const execution = await runToEnd(executor, taskA, { name: "world" })
      expect(execution.status).toBe("completed")
      expect(execution.output).toBe("Hello, world!")
      await expect(executor.enqueueTask(taskA, { name: 42 } as never)).rejects.toThrow(/name/)
    }))

  it("retries (totalAttempts: 3)", () =>
    withExecutor(async (executor) => {
      let totalAttempts = 0
      const taskA = executor.task({
        id: "a",
        retryOptions: { maxAttempts: 5, baseDelayMs: 100, delayMultiplier: 1.5, maxDelayMs: 1000 },
        timeoutMs: 1000,
        run: (ctx, input: { name: string }) => {
          totalAttempts++
          if (ctx.attempt < 2) throw new Error("Failed")
          return { totalAttempts, output: `Hello, ${input.name}!` }
        }
      })
      const execution = await runToEnd(executor, taskA, { name: "world" })
      expect(execution.status).toBe("completed")
      expect(execution.output).toEqual({ totalAttempts: 3, output: "Hello, world!" })
      expect(execution.retryAttempts).toBe(2)
    }))

  it("task run context", () =>
    withExecutor(async (executor) => {
      const taskA = executor.task({
        id: "a",
        timeoutMs: 1000,
        run: (ctx) => ({ taskId: ctx.taskId, executionId: ctx.executionId, attempt: ctx.attempt, prevError: ctx.prevError })
      })
      const handle = await executor.enqueueTask(taskA, undefined)
      const execution = await handle.waitAndGetExecution()
      expect(execution.status).toBe("completed")
      const output = execution.output as { taskId: string; executionId: string; attempt: number; prevError?: unknown }
      expect(output.taskId).toBe("a")
      expect(output.executionId).toMatch(/^te_/)
      expect(output.executionId).toBe(handle.getExecutionId())
      expect(output.attempt).toBe(0)
      expect(output.prevError).toBeUndefined()
    }))

  it("parent task with parallel children", () =>
    withExecutor(async (executor) => {
      const taskA = executor.task({
        id: "a",
        timeoutMs: 1000,
        run: (_ctx, input: { name: string }) => `Hello from task A, ${input.name}!`
      })
      const taskB = executor.task({
        id: "b",
        timeoutMs: 1000,
        run: (_ctx, input: { name: string }) => `Hello from task B, ${input.name}!`
      })
      const parentTask = executor.parentTask({
        id: "parent",
        timeoutMs: 1000,
        runParent: (_ctx, input: { name: string }) => ({
          output: `Hello from parent task, ${input.name}!`,
          childrenTasks: [
            { task: taskA, input: { name: input.name } },
            { task: taskB, input: { name: input.name } }
          ]
        })
      })
      const execution = await runToEnd(executor, parentTask, { name: "world" })
      expect(execution.status).toBe("completed")
      expect(execution.output).toMatchObject({
        output: "Hello from parent task, world!",
        childrenOutputs: [{ output: "Hello from task A, world!" }, { output: "Hello from task B, world!" }]
      })
      expect(execution.output?.childrenOutputs).toHaveLength(2)
      expect(execution.output?.childrenOutputs.map((c) => c.taskId)).toEqual(["a", "b"])
      expect(execution.output?.childrenOutputs.map((c) => c.executionId)).toEqual(
        execution.childrenTaskExecutions?.map((c) => c.executionId)
      )
    }))

  it("parent task with parallel children and combined output (finalize)", () =>
    withExecutor(async (executor) => {
      const taskA = executor.task({
        id: "a",
        timeoutMs: 1000,
        run: (_ctx, input: { name: string }) => `Hello from task A, ${input.name}!`
      })
      const taskB = executor.task({
        id: "b",
        timeoutMs: 1000,
        run: (_ctx, input: { name: string }) => `Hello from task B, ${input.name}!`
      })
      const parentTask = executor.parentTask({
        id: "parent",
        timeoutMs: 1000,
        runParent: (_ctx, input: { name: string }) => ({
          output: `Hello from parent task, ${input.name}!`,
          childrenTasks: [
            { task: taskA, input: { name: input.name } },
            { task: taskB, input: { name: input.name } }
          ]
        }),
        finalizeTask: {
          id: "onParentRunAndChildrenComplete",
          timeoutMs: 1000,
          run: (_ctx, { childrenTasksOutputs, output }) => ({
            parentOutput: output,
            taskAOutput: childrenTasksOutputs[0]!.output as string,
            taskBOutput: childrenTasksOutputs[1]!.output as string
          })
        }
      })
      const execution = await runToEnd(executor, parentTask, { name: "world" })
      expect(execution.status).toBe("completed")
      expect(execution.output).toEqual({
        parentOutput: "Hello from parent task, world!",
        taskAOutput: "Hello from task A, world!",
        taskBOutput: "Hello from task B, world!"
      })
    }))

  it("sequential tasks (sequentialTasks)", () =>
    withExecutor(async (executor) => {
      const taskA = executor.task({
        id: "a",
        timeoutMs: 1000,
        run: (_ctx, input: { name: string }) => ({ name: input.name, taskAOutput: `Hello from task A, ${input.name}!` })
      })
      const taskB = executor.task({
        id: "b",
        timeoutMs: 1000,
        run: (_ctx, input: { name: string; taskAOutput: string }) => ({
          name: input.name,
          taskAOutput: input.taskAOutput,
          taskBOutput: `Hello from task B, ${input.name}!`
        })
      })
      const taskC = executor.task({
        id: "c",
        timeoutMs: 1000,
        run: (_ctx, input: { name: string; taskAOutput: string; taskBOutput: string }) => ({
          taskAOutput: input.taskAOutput,
          taskBOutput: input.taskBOutput,
          taskCOutput: `Hello from task C, ${input.name}!`
        })
      })
      const task = executor.sequentialTasks(taskA, taskB, taskC)
      const execution = await runToEnd(executor, task, { name: "world" })
      expect(execution.status).toBe("completed")
      expect(execution.output).toEqual({
        taskAOutput: "Hello from task A, world!",
        taskBOutput: "Hello from task B, world!",
        taskCOutput: "Hello from task C, world!"
      })
      // The id derives from the members' ids, so it is the same in every process.
      expect(task.id).toBe(executor.sequentialTasks(taskA, taskB, taskC).id)
      expect(task.id).toContain("a,b,c")
    }))

  it("sequential tasks (manually, with nested finalize parent tasks)", () =>
    withExecutor(async (executor) => {
      const taskC = executor.task({
        id: "c",
        timeoutMs: 1000,
        run: (_ctx, input: { name: string }) => `Hello from task C, ${input.name}!`
      })
      const taskB = executor.parentTask({
        id: "b",
        timeoutMs: 1000,
        runParent: (_ctx, input: { name: string }) => ({ output: `Hello from task B, ${input.name}!` }),
        finalizeTask: {
          id: "taskBFinalize",
          timeoutMs: 1000,
          runParent: (_ctx, { input, output }) => ({
            output,
            childrenTasks: [{ task: taskC, input: { name: input.name } }]
          }),
          finalizeTask: {
            id: "taskBFinalizeNested",
            timeoutMs: 1000,
            run: (_ctx, { childrenTasksOutputs, output }) => ({
              taskBOutput: output as string,
              taskCOutput: childrenTasksOutputs[0]!.output as string
            })
          }
        }
      })
      const taskA = executor.parentTask({
        id: "a",
        timeoutMs: 1000,
        runParent: (_ctx, input: { name: string }) => ({ output: `Hello from task A, ${input.name}!` }),
        finalizeTask: {
          id: "taskAFinalize",
          timeoutMs: 1000,
          runParent: (_ctx, { input, output }) => ({
            output,
            childrenTasks: [{ task: taskB, input: { name: input.name } }]
          }),
          finalizeTask: {
            id: "taskAFinalizeNested",
            timeoutMs: 1000,
            run: (_ctx, { childrenTasksOutputs, output }) => {
              const taskBOutput = childrenTasksOutputs[0]!.output as { taskBOutput: string; taskCOutput: string }
              return {
                taskAOutput: output as string,
                taskBOutput: taskBOutput.taskBOutput,
                taskCOutput: taskBOutput.taskCOutput
              }
            }
          }
        }
      })
      const execution = await runToEnd(executor, taskA, { name: "world" })
      expect(execution.status).toBe("completed")
      expect(execution.output).toEqual({
        taskAOutput: "Hello from task A, world!",
        taskBOutput: "Hello from task B, world!",
        taskCOutput: "Hello from task C, world!"
      })
    }))

  it("multiple parent tasks with parallel children run sequentially", () =>
    withExecutor(async (executor) => {
      const leaf = (id: string, label: string) =>
        executor.task({ id, timeoutMs: 1000, run: (_ctx, input: { name: string }) => `Hello from task ${label}, ${input.name}!` })
      const taskA1 = leaf("a1", "A1")
      const taskA2 = leaf("a2", "A2")
      const taskB1 = leaf("b1", "B1")
      const taskB2 = leaf("b2", "B2")
      const taskA = executor.parentTask({
        id: "a",
        timeoutMs: 1000,
        runParent: (_ctx, input: { name: string }) => ({
          output: `Hello from task A, ${input.name}!`,
          childrenTasks: [
            { task: taskA1, input: { name: input.name } },
            { task: taskA2, input: { name: input.name } }
          ]
        }),
        finalizeTask: {
          id: "taskAFinalize",
          timeoutMs: 1000,
          run: (_ctx, { childrenTasksOutputs, input, output }) => ({
            name: input.name,
            taskAOutput: output,
            taskA1Output: childrenTasksOutputs[0]!.output as string,
            taskA2Output: childrenTasksOutputs[1]!.output as string
          })
        }
      })
      const taskB = executor.parentTask({
        id: "b",
        timeoutMs: 1000,
        runParent: (_ctx, input: { name: string; taskAOutput: string; taskA1Output: string; taskA2Output: string }) => ({
          output: {
            taskAOutput: input.taskAOutput,
            taskA1Output: input.taskA1Output,
            taskA2Output: input.taskA2Output,
            taskBOutput: `Hello from task B, ${input.name}!`
          },
          childrenTasks: [
            { task: taskB1, input: { name: input.name } },
            { task: taskB2, input: { name: input.name } }
          ]
        }),
        finalizeTask: {
          id: "taskBFinalize",
          timeoutMs: 1000,
          run: (_ctx, { childrenTasksOutputs, output }) => ({
            ...output,
            taskB1Output: childrenTasksOutputs[0]!.output as string,
            taskB2Output: childrenTasksOutputs[1]!.output as string
          })
        }
      })
      const task = executor.sequentialTasks(taskA, taskB)
      const execution = await runToEnd(executor, task, { name: "world" })
      expect(execution.status).toBe("completed")
      expect(execution.output).toEqual({
        taskAOutput: "Hello from task A, world!",
        taskA1Output: "Hello from task A1, world!",
        taskA2Output: "Hello from task A2, world!",
        taskBOutput: "Hello from task B, world!",
        taskB1Output: "Hello from task B1, world!",
        taskB2Output: "Hello from task B2, world!"
      })
    }))

  it("task tree", () =>
    withExecutor(async (executor) => {
      const taskB1 = executor.task({
        id: "b1",
        timeoutMs: 1000,
        run: (_ctx, input: { name: string }) => ({ name: input.name, taskB1Output: `Hello from task B1, ${input.name}!` })
      })
      const taskB2 = executor.task({
        id: "b2",
        timeoutMs: 1000,
        run: (_ctx, input: { name: string; taskB1Output: string }) => ({
          name: input.name,
          taskB1Output: input.taskB1Output,
          taskB2Output: `Hello from task B2, ${input.name}!`
        })
      })
      const taskB3 = executor.task({
        id: "b3",
        timeoutMs: 1000,
        run: (_ctx, input: { name: string; taskB1Output: string; taskB2Output: string }) => ({
          taskB1Output: input.taskB1Output,
          taskB2Output: input.taskB2Output,
          taskB3Output: `Hello from task B3, ${input.name}!`
        })
      })
      const taskB = executor.sequentialTasks(taskB1, taskB2, taskB3)
      const leaf = (id: string, label: string) =>
        executor.task({ id, timeoutMs: 1000, run: (_ctx, input: { name: string }) => `Hello from task ${label}, ${input.name}!` })
      const taskA1 = leaf("a1", "A1")
      const taskA2 = leaf("a2", "A2")
      const taskA3 = leaf("a3", "A3")
      const taskA = executor.parentTask({
        id: "a",
        timeoutMs: 1000,
        runParent: (_ctx, input: { name: string }) => ({
          output: `Hello from task A, ${input.name}!`,
          childrenTasks: [
            { task: taskA1, input: { name: input.name } },
            { task: taskA2, input: { name: input.name } },
            { task: taskA3, input: { name: input.name } }
          ]
        }),
        finalizeTask: {
          id: "taskAFinalize",
          timeoutMs: 1000,
          run: (_ctx, { childrenTasksOutputs, output }) => ({
            taskAOutput: output,
            taskA1Output: childrenTasksOutputs[0]!.output as string,
            taskA2Output: childrenTasksOutputs[1]!.output as string,
            taskA3Output: childrenTasksOutputs[2]!.output as string
          })
        }
      })
      const rootTask = executor.parentTask({
        id: "root",
        timeoutMs: 1000,
        runParent: (_ctx, input: { name: string }) => ({
          output: `Hello from root task, ${input.name}!`,
          childrenTasks: [
            { task: taskA, input: { name: input.name } },
            { task: taskB, input: { name: input.name } }
          ]
        }),
        finalizeTask: {
          id: "rootFinalize",
          timeoutMs: 1000,
          run: (_ctx, { childrenTasksOutputs, output }) => {
            const a = childrenTasksOutputs[0]!.output as {
              taskAOutput: string
              taskA1Output: string
              taskA2Output: string
              taskA3Output: string
            }
            const b = childrenTasksOutputs[1]!.output as { taskB1Output: string; taskB2Output: string; taskB3Output: string }
            return {
              rootOutput: output,
              taskAOutput: a.taskAOutput,
              taskA1Output: a.taskA1Output,
              taskA2Output: a.taskA2Output,
              taskA3Output: a.taskA3Output,
              taskB1Output: b.taskB1Output,
              taskB2Output: b.taskB2Output,
              taskB3Output: b.taskB3Output
            }
          }
        }
      })
      const execution = await runToEnd(executor, rootTask, { name: "world" })
      expect(execution.status).toBe("completed")
      expect(execution.output).toEqual({
        rootOutput: "Hello from root task, world!",
        taskAOutput: "Hello from task A, world!",
        taskA1Output: "Hello from task A1, world!",
        taskA2Output: "Hello from task A2, world!",
        taskA3Output: "Hello from task A3, world!",
        taskB1Output: "Hello from task B1, world!",
        taskB2Output: "Hello from task B2, world!",
        taskB3Output: "Hello from task B3, world!"
      })
    }))

  it("recursive task (count 10)", () =>
    withExecutor(async (executor) => {
      const recursiveTask: DurableTask<{ index: number }, { count: number }> = executor
        .inputSchema(z.object({ index: z.number().int().min(0) }))
        .parentTask({
          id: "recursive",
          timeoutMs: 1000,
          runParent: async (_ctx, input) => {
            await sleep(1)
            return {
              output: undefined,
              childrenTasks: input.index >= 9 ? [] : [{ task: recursiveTask, input: { index: input.index + 1 } }]
            }
          },
          finalizeTask: {
            id: "recursiveFinalize",
            timeoutMs: 1000,
            run: (_ctx, { childrenTasksOutputs }) => ({
              count: 1 + childrenTasksOutputs.reduce((acc, child) => acc + (child.output as { count: number }).count, 0)
            })
          }
        })
      const execution = await runToEnd(executor, recursiveTask, { index: 0 })
      expect(execution.status).toBe("completed")
      expect(execution.output).toEqual({ count: 10 })
    }))

  it("polling task (count between 10 and 20, value 10)", () =>
    withExecutor(async (executor) => {
      // The README sets the value after 2000 ms; 1500 ms keeps the test shorter while each level
      // still waits sleepMsBeforeRun (100 ms), so the count stays between 10 and 20.
      let value: number | undefined
      const timer = setTimeout(() => {
        value = 10
      }, 1500)
      type PollOutput = { isDone: false; value: undefined } | { isDone: true; value: number }
      const pollingTask: DurableTask<{ prevCount: number }, { count: number; value: number }> = executor
        .inputSchema(z.object({ prevCount: z.number().int().min(0) }))
        .parentTask({
          id: "polling",
          sleepMsBeforeRun: 100,
          timeoutMs: 1000,
          runParent: (_ctx, input) => {
            if (value != null) return { output: { isDone: true, value } as PollOutput }
            return {
              output: { isDone: false, value } as PollOutput,
              childrenTasks: [{ task: pollingTask, input: { prevCount: input.prevCount + 1 } }]
            }
          },
          finalizeTask: {
            id: "pollingFinalize",
            timeoutMs: 1000,
            run: (_ctx, { childrenTasksOutputs, input, output }) => {
              if (output.isDone) return { count: input.prevCount + 1, value: output.value }
              return childrenTasksOutputs[0]!.output as { count: number; value: number }
            }
          }
        })
      try {
        const execution = await runToEnd(executor, pollingTask, { prevCount: 0 })
        expect(execution.status).toBe("completed")
        expect(execution.output?.value).toBe(10)
        expect(execution.output?.count).toBeGreaterThanOrEqual(10)
        expect(execution.output?.count).toBeLessThanOrEqual(20)
      } finally {
        clearTimeout(timer)
      }
    }))
})
