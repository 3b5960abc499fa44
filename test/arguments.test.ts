/**
 * The facade's arguments are checked: a wrong argument gets the facade's own error naming it, never
 * a bare TypeError; and `enqueueTask(task)` may leave out an input whose type admits `undefined`
 * (checked by the type-check of this file: `npm test` runs `tsc` over `test/`).
 */
import * as Effect from "effect/Effect"
import { describe, expect, it } from "vitest"
import { z } from "zod"
import {
  DurableExecutionNotFoundError,
  DurableExecutor,
  DurableExecutorOptionsError,
  DurableTaskDefinitionError
} from "../src/index.js"
import * as Task from "../src/Task.js"
import { caught } from "./support/caught.js"
import { inspectableStorage, withExecutor } from "./support/facade.js"

const expectError = async (f: () => unknown, type: new(...args: Array<any>) => Error, message: string) => {
  const error = await caught(f)
  expect(error).toBeInstanceOf(type)
  expect(error).not.toBeInstanceOf(TypeError)
  expect(error.message).toBe(message)
}

const ok = (_ctx: unknown, input: unknown) => input

describe("arguments of the executor's methods", () => {
  it("a task argument that is not a task of this executor is refused by each method", () =>
    withExecutor(async (executor, rows) => {
      const other = new DurableExecutor(inspectableStorage().storage, { logLevel: "none" })
      const foreign = other.task({ id: "foreign", timeoutMs: 1_000, run: ok })
      const effectTask = Task.make({ id: "effect", timeoutMs: 1_000, run: (n: number) => Effect.succeed(n) })
      const notATask = "expected a task defined with this executor (executor.task(...))"
      const calls: ReadonlyArray<readonly [string, (task: any) => unknown]> = [
        ["enqueueTask", (task) => executor.enqueueTask(task, 1)],
        ["enqueueTasks", (task) => executor.enqueueTasks(task, [1])],
        ["getTaskHandle", (task) => executor.getTaskHandle(task, "te_x")]
      ]
      for (const [name, call] of calls) {
        await expectError(() => call(undefined), DurableTaskDefinitionError, `${name}: ${notATask}, got undefined`)
        await expectError(() => call(null), DurableTaskDefinitionError, `${name}: ${notATask}, got null`)
        await expectError(() => call("greet"), DurableTaskDefinitionError, `${name}: ${notATask}, got string "greet"`)
        await expectError(() => call({ id: "x" }), DurableTaskDefinitionError, `${name}: ${notATask}, got object`)
        await expectError(
          () => call(foreign),
          DurableTaskDefinitionError,
          `${name}: task 'foreign' was not defined with this executor`
        )
        await expectError(
          () => call(effectTask),
          DurableTaskDefinitionError,
          `${name}: task 'effect' was not defined with this executor`
        )
      }
      await expectError(
        () => executor.sequentialTasks(foreign),
        DurableTaskDefinitionError,
        "sequentialTasks: argument 0: task 'foreign' was not defined with this executor"
      )
      expect(rows()).toEqual([])
      await other.shutdown()
    }))

  it("getTaskHandle refuses an execution id that is not a string", () =>
    withExecutor(async (executor) => {
      const task = executor.task({ id: "t", timeoutMs: 1_000, run: ok })
      await expectError(
        () => executor.getTaskHandle(task, undefined as never),
        DurableExecutionNotFoundError,
        "getTaskHandle: executionId must be a non-empty string, got undefined"
      )
      await expectError(
        () => executor.getTaskHandle(task, 42 as never),
        DurableExecutionNotFoundError,
        "getTaskHandle: executionId must be a non-empty string, got number 42"
      )
      await expectError(
        () => executor.getTaskHandle(task, ""),
        DurableExecutionNotFoundError,
        "getTaskHandle: executionId must be a non-empty string, got string \"\""
      )
    }))

  it("enqueueTasks refuses inputs that are not an iterable object", () =>
    withExecutor(async (executor, rows) => {
      const task = executor.task({ id: "t", timeoutMs: 1_000, run: ok })
      await expectError(
        () => executor.enqueueTasks(task, undefined as never),
        DurableTaskDefinitionError,
        "enqueueTasks: inputs must be an array (or another iterable), got undefined"
      )
      await expectError(
        () => executor.enqueueTasks(task, 3 as never),
        DurableTaskDefinitionError,
        "enqueueTasks: inputs must be an array (or another iterable), got number 3"
      )
      await expectError(
        () => executor.enqueueTasks(task, "abc" as never),
        DurableTaskDefinitionError,
        "enqueueTasks: inputs must be an array (or another iterable), got string \"abc\""
      )
      expect(rows()).toEqual([])
      // A Set is an iterable object: accepted.
      expect(await executor.enqueueTasks(task, new Set([1, 2]))).toHaveLength(2)
    }))
})

describe("waitAndGetExecution options", () => {
  it.each([
    [{ signal: "x" }, "waitAndGetExecution: signal must be an AbortSignal, got string \"x\""],
    [{ signal: {} }, "waitAndGetExecution: signal must be an AbortSignal, got object"],
    [{ pollingIntervalMs: "5" }, "waitAndGetExecution: pollingIntervalMs must be a number, got string \"5\""],
    [{ pollingIntervalMs: null }, "waitAndGetExecution: pollingIntervalMs must be a number, got null"],
    [
      { pollingIntervalMS: 5 },
      "waitAndGetExecution: unknown option 'pollingIntervalMS' (did you mean 'pollingIntervalMs'?)"
    ],
    [{ pollIntervalMs: 5 }, "waitAndGetExecution: unknown option 'pollIntervalMs' (did you mean 'pollingIntervalMs'?)"],
    ["fast", "waitAndGetExecution: options must be an object { signal, pollingIntervalMs }, got string \"fast\""],
    [null, "waitAndGetExecution: options must be an object { signal, pollingIntervalMs }, got null"]
  ])(
    "%j is refused with DurableExecutorOptionsError, and the wait still works",
    (options, message) =>
      withExecutor(async (executor) => {
        const task = executor.task({ id: "t", timeoutMs: 1_000, run: ok })
        const handle = await executor.enqueueTask(task, 7)
        await expectError(() => handle.waitAndGetExecution(options as never), DurableExecutorOptionsError, message)
        const controller = new AbortController()
        const done = await handle.waitAndGetExecution({ signal: controller.signal, pollingIntervalMs: 10 })
        expect(done.output).toBe(7)
      })
  )
})

describe("enqueueTask without an input", () => {
  it("a task whose input type is undefined is enqueued as enqueueTask(task)", () =>
    withExecutor(async (executor) => {
      const inputs: Array<unknown> = []
      const noInput = executor.task({
        id: "noInput",
        timeoutMs: 1_000,
        run: (_ctx, input) => {
          inputs.push(input)
          return "ran"
        }
      })
      const optional = executor.task({
        id: "optional",
        timeoutMs: 1_000,
        run: (_ctx, input: string | undefined) => input ?? "none"
      })
      const needsInput = executor.task({ id: "needsInput", timeoutMs: 1_000, run: (_ctx, input: number) => input * 2 })
      const validated = executor.inputSchema(z.object({ n: z.number() })).task({
        id: "validated",
        timeoutMs: 1_000,
        run: (_ctx, { n }) => n
      })

      expect((await (await executor.enqueueTask(noInput)).waitAndGetExecution()).output).toBe("ran")
      expect(inputs).toEqual([undefined])
      expect((await (await executor.enqueueTask(optional)).waitAndGetExecution()).output).toBe("none")
      expect((await (await executor.enqueueTask(optional, "given")).waitAndGetExecution()).output).toBe("given")
      // Options still come after the input.
      const withOptions = await executor.enqueueTask(noInput, undefined, { timeoutMs: 2_000 })
      expect((await withOptions.waitAndGetExecution()).timeoutMs).toBe(2_000)

      // @ts-expect-error a task that needs an input cannot be enqueued without one
      const missing = await executor.enqueueTask(needsInput)
      const failed = await missing.waitAndGetExecution()
      expect(failed.status).toBe("completed") // the run got undefined: the types are what refuse it
      expect(failed.output).toBeNaN() // undefined * 2 is NaN, which the lossless serializer keeps
      // @ts-expect-error a validated task needs its input too
      await expect(executor.enqueueTask(validated)).rejects.toThrow("invalid input for task 'validated'")
    }))
})
