/**
 * The seed README's parent-task examples (parallel children, finalize, sequential tasks built both
 * ways, parents run one after another), run through the Promise facade with their documented output.
 */
import { describe, expect, it } from "vitest"
import { runToEnd, withExecutor } from "./support/facade.js"

describe("README: Task examples (parent tasks)", () => {
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
        executor.task({
          id,
          timeoutMs: 1000,
          run: (_ctx, input: { name: string }) => `Hello from task ${label}, ${input.name}!`
        })
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
        runParent: (
          _ctx,
          input: { name: string; taskAOutput: string; taskA1Output: string; taskA2Output: string }
        ) => ({
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
})
