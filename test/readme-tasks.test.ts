/**
 * The seed README's task examples (sync and async tasks, input validation, retries, the run context),
 * run through the Promise facade with their documented output. A fresh executor and storage per test.
 */
import * as Schema from "effect/Schema"
import { describe, expect, it } from "vitest"
import { z } from "zod"
import { runToEnd, withExecutor } from "./support/facade.js"
import { sleep } from "./support/wait.js"

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
        run: (ctx) => ({
          taskId: ctx.taskId,
          executionId: ctx.executionId,
          attempt: ctx.attempt,
          prevError: ctx.prevError
        })
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
})
