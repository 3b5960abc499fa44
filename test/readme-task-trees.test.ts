/**
 * The seed README's task-tree examples (a tree, a recursive task, a polling task), run through the
 * Promise facade with their documented output. The polling test is deterministic: the awaited value
 * arrives after a set number of polls, not after a time.
 */
import { describe, expect, it } from "vitest"
import { z } from "zod"
import type { DurableTask } from "../src/index.js"
import { runToEnd, withExecutor } from "./support/facade.js"
import { sleep } from "./support/wait.js"

describe("README: Task examples (trees)", () => {
  it("task tree", () =>
    withExecutor(async (executor) => {
      const taskB1 = executor.task({
        id: "b1",
        timeoutMs: 1000,
        run: (_ctx, input: { name: string }) => ({
          name: input.name,
          taskB1Output: `Hello from task B1, ${input.name}!`
        })
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
        executor.task({
          id,
          timeoutMs: 1000,
          run: (_ctx, input: { name: string }) => `Hello from task ${label}, ${input.name}!`
        })
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
            const b = childrenTasksOutputs[1]!.output as {
              taskB1Output: string
              taskB2Output: string
              taskB3Output: string
            }
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

  it("polling task (value 10 arrives after the 12th poll: count 13; each level waits sleepMsBeforeRun)", () =>
    withExecutor(async (executor, rows) => {
      // The README sets the value after 2000 ms, so its count (10 to 20) depends on how fast each
      // level runs. Here the value arrives right after the 12th poll found none: the 13th sees it,
      // so the count is exactly 13 however slow the machine; the 100 ms wait of every level is read
      // from the stored rows instead of timed.
      let value: number | undefined
      let polls = 0
      type PollOutput = { isDone: false; value: undefined } | { isDone: true; value: number }
      const pollingTask: DurableTask<{ prevCount: number }, { count: number; value: number }> = executor
        .inputSchema(z.object({ prevCount: z.number().int().min(0) }))
        .parentTask({
          id: "polling",
          sleepMsBeforeRun: 100,
          timeoutMs: 1000,
          runParent: (_ctx, input) => {
            if (value != null) return { output: { isDone: true, value } as PollOutput }
            polls++
            if (polls === 12) value = 10
            return {
              output: { isDone: false, value: undefined } as PollOutput,
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
      const execution = await runToEnd(executor, pollingTask, { prevCount: 0 })
      expect(execution.status).toBe("completed")
      expect(execution.output).toEqual({ count: 13, value: 10 })
      const levels = rows().filter((r) => r.taskId === "polling")
      expect(levels).toHaveLength(13)
      expect(levels.map((r) => r.startAt - r.createdAt)).toEqual(levels.map(() => 100))
    }))
})
