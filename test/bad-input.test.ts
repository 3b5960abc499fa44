/**
 * Bad input: each is refused with a clear error that names the problem, and nothing stored changes.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { z } from "zod"
import * as DurableExecutorEffect from "../src/DurableExecutor.js"
import {
  DurableExecutionNotFoundError,
  DurableExecutor,
  DurableExecutorOptionsError,
  DurableTaskDefinitionError,
  DurableTaskInputError,
  DurableValueError
} from "../src/index.js"
import { caught } from "./support/caught.js"
import { inspectableStorage, withExecutor } from "./support/facade.js"

const ok = (_ctx: unknown, input: unknown) => input

describe("task definitions", () => {
  it.each([
    ["", "non-empty"],
    ["has space", "printable ASCII"],
    ["tab\there", "printable ASCII"],
    ["café", "printable ASCII"],
    ["x".repeat(256), "at most 255 characters"],
    [42 as unknown as string, "non-empty string"]
  ])("invalid task id %j is refused (%s)", async (id, problem) => {
    const { rows, storage } = inspectableStorage()
    const executor = new DurableExecutor(storage, { logLevel: "none" })
    const error = await caught(() => executor.task({ id, timeoutMs: 1_000, run: ok }))
    expect(error).toBeInstanceOf(DurableTaskDefinitionError)
    expect(error.message).toContain("task id")
    expect(error.message).toContain(problem)
    expect(rows()).toEqual([])
    await executor.shutdown()
  })

  it("the longest and most unusual valid ids are accepted", () =>
    withExecutor(async (executor) => {
      const long = executor.task({ id: "x".repeat(255), timeoutMs: 1_000, run: ok })
      const odd = executor.task({ id: "!#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", timeoutMs: 1_000, run: ok })
      for (const task of [long, odd]) {
        const done = await (await executor.enqueueTask(task, 1)).waitAndGetExecution()
        expect(done.taskId).toBe(task.id)
        expect(done.output).toBe(1)
      }
    }))

  it("a duplicate task id is refused and the first task keeps working", () =>
    withExecutor(async (executor, rows) => {
      const first = executor.task({ id: "a", timeoutMs: 1_000, run: () => "first" })
      const error = await caught(() => executor.task({ id: "a", timeoutMs: 1_000, run: () => "second" }))
      expect(error).toBeInstanceOf(DurableTaskDefinitionError)
      expect(error.message).toBe("task id 'a' is already registered by another task")
      expect(rows()).toEqual([])
      const done = await (await executor.enqueueTask(first, undefined)).waitAndGetExecution()
      expect(done.output).toBe("first")
    }))

  it("a finalize task id that collides is refused, and nothing of the parent is registered", () =>
    withExecutor(async (executor) => {
      executor.task({ id: "taken", timeoutMs: 1_000, run: ok })
      const error = await caught(() =>
        executor.parentTask({
          id: "parent",
          timeoutMs: 1_000,
          runParent: () => ({ output: 1 }),
          finalizeTask: { id: "taken", timeoutMs: 1_000, run: () => 2 }
        })
      )
      expect(error).toBeInstanceOf(DurableTaskDefinitionError)
      expect(error.message).toContain("'taken' is already registered")
      // "parent" was not registered by the failed attempt.
      const parent = executor.parentTask({
        id: "parent",
        timeoutMs: 1_000,
        runParent: () => ({ output: 1 }),
        finalizeTask: { id: "parentFinalize", timeoutMs: 1_000, run: (_ctx, { output }) => output + 1 }
      })
      expect((await (await executor.enqueueTask(parent, undefined)).waitAndGetExecution()).output).toBe(2)
    }))

  it.each([
    [0, "an integer from 1 to 2147483647, got 0"],
    [-1, "an integer from 1 to 2147483647, got -1"],
    [1.5, "an integer from 1 to 2147483647, got 1.5"],
    [2_147_483_648, "an integer from 1 to 2147483647, got 2147483648"],
    [Number.NaN, "an integer from 1 to 2147483647, got NaN"],
    [Number.POSITIVE_INFINITY, "an integer from 1 to 2147483647, got Infinity"],
    ["100", "a number, got string \"100\""],
    [undefined, "a number, got undefined"],
    [null, "a number, got null"]
  ])("timeoutMs %j is refused", async (timeoutMs, problem) => {
    const { rows, storage } = inspectableStorage()
    const executor = new DurableExecutor(storage, { logLevel: "none" })
    const error = await caught(() => executor.task({ id: "t", timeoutMs: timeoutMs as number, run: ok }))
    expect(error).toBeInstanceOf(DurableTaskDefinitionError)
    expect(error.message).toBe(`task 't': timeoutMs must be ${problem}`)
    expect(rows()).toEqual([])
    await executor.shutdown()
  })

  it.each([
    [{ maxAttempts: -1 }, "retryOptions.maxAttempts"],
    [{ maxAttempts: 1001 }, "retryOptions.maxAttempts"],
    [{ maxAttempts: 2.5 }, "retryOptions.maxAttempts"],
    [{ baseDelayMs: -5 }, "retryOptions.baseDelayMs"],
    [{ baseDelayMs: Number.NaN }, "retryOptions.baseDelayMs"],
    [{ delayMultiplier: 0.5 }, "retryOptions.delayMultiplier"],
    [{ maxDelayMs: -1 }, "retryOptions.maxDelayMs"]
  ])("retry options %j are refused", async (retryOptions, field) => {
    const { rows, storage } = inspectableStorage()
    const executor = new DurableExecutor(storage, { logLevel: "none" })
    const error = await caught(() => executor.task({ id: "t", timeoutMs: 1_000, retryOptions, run: ok }))
    expect(error).toBeInstanceOf(DurableTaskDefinitionError)
    expect(error.message).toContain(`task 't': ${field} must be`)
    expect(rows()).toEqual([])
    await executor.shutdown()
  })

  it("a negative sleepMsBeforeRun is refused", async () => {
    const executor = new DurableExecutor(inspectableStorage().storage, { logLevel: "none" })
    const error = await caught(() => executor.task({ id: "t", timeoutMs: 1_000, sleepMsBeforeRun: -1, run: ok }))
    expect(error).toBeInstanceOf(DurableTaskDefinitionError)
    expect(error.message).toContain("sleepMsBeforeRun")
    await executor.shutdown()
  })

  it("invalid per-enqueue overrides are refused and nothing is stored", () =>
    withExecutor(async (executor, rows) => {
      const task = executor.task({ id: "t", timeoutMs: 1_000, run: ok })
      const badTimeout = await caught(() => executor.enqueueTask(task, 1, { timeoutMs: 0 }))
      expect(badTimeout).toBeInstanceOf(DurableTaskDefinitionError)
      expect(badTimeout.message).toContain("timeoutMs")
      const badRetry = await caught(() => executor.enqueueTask(task, 1, { retryOptions: { maxAttempts: -3 } }))
      expect(badRetry).toBeInstanceOf(DurableTaskDefinitionError)
      expect(badRetry.message).toContain("retryOptions.maxAttempts")
      expect(rows()).toEqual([])
    }))

  it("empty sequentialTasks is refused", async () => {
    const executor = new DurableExecutor(inspectableStorage().storage, { logLevel: "none" })
    const error = await caught(() => executor.sequentialTasks(...([] as unknown as [never])))
    expect(error).toBeInstanceOf(DurableTaskDefinitionError)
    expect(error.message).toBe("sequentialTasks needs at least one task")
    const notATask = await caught(() => executor.sequentialTasks({} as never))
    expect(notATask.message).toBe(
      "sequentialTasks: argument 0: expected a task defined with this executor (executor.task(...)), got object"
    )
    await executor.shutdown()
  })
})

describe("enqueue input", () => {
  it("input failing validateInput is refused at enqueue with the validator's message", () =>
    withExecutor(async (executor, rows) => {
      let runs = 0
      const task = executor
        .validateInput((input: { name: string }) => {
          if (input.name !== "world") throw new Error(`unknown name '${input.name}'`)
          return input
        })
        .task({ id: "greet", timeoutMs: 1_000, run: () => void runs++ })
      const error = await caught(() => executor.enqueueTask(task, { name: "moon" }))
      expect(error).toBeInstanceOf(DurableTaskInputError)
      expect(error.message).toBe("invalid input for task 'greet': unknown name 'moon'")
      expect(rows()).toEqual([])
      expect(runs).toBe(0)
    }))

  it("an async validator's rejection is refused the same way", () =>
    withExecutor(async (executor, rows) => {
      const task = executor
        .validateInput(async (input: string) => {
          await Promise.resolve()
          if (input.length > 3) throw new Error("too long")
          return input
        })
        .task({ id: "short", timeoutMs: 1_000, run: ok })
      const error = await caught(() => executor.enqueueTask(task, "abcdef"))
      expect(error).toBeInstanceOf(DurableTaskInputError)
      expect(error.message).toBe("invalid input for task 'short': too long")
      expect(rows()).toEqual([])
    }))

  it("input failing a schema is refused with the issue's path", () =>
    withExecutor(async (executor, rows) => {
      const task = executor.inputSchema(z.object({ name: z.string(), age: z.number().int() })).task({
        id: "person",
        timeoutMs: 1_000,
        run: ok
      })
      const error = await caught(() => executor.enqueueTask(task, { name: "x", age: 1.5 }))
      expect(error).toBeInstanceOf(DurableTaskInputError)
      expect(error.message).toMatch(/^invalid input for task 'person': age: /)
      expect(rows()).toEqual([])
    }))

  it("input that the serializer cannot represent is refused", () =>
    withExecutor(async (executor, rows) => {
      const task = executor.task({ id: "t", timeoutMs: 1_000, run: ok })
      const error = await caught(() => executor.enqueueTask(task, { n: () => 10 }))
      expect(error).toBeInstanceOf(DurableValueError)
      expect(error.message).toBe("input of task 't' cannot be stored: input.n is a function")
      expect(rows()).toEqual([])
    }))

  it("input over the size limit is refused", () =>
    withExecutor(async (executor, rows) => {
      const task = executor.task({ id: "t", timeoutMs: 1_000, run: (_ctx, _input: string) => "ran" })
      const error = await caught(() => executor.enqueueTask(task, "x".repeat(2_000)))
      expect(error).toBeInstanceOf(DurableValueError)
      expect(error.message).toBe("input of task 't' is 2002 bytes serialized, over the limit of 1024 bytes")
      expect(rows()).toEqual([])
      // Just under the limit is fine.
      const done = await (await executor.enqueueTask(task, "x".repeat(1_022))).waitAndGetExecution()
      expect(done.status).toBe("completed")
    }, { maxSerializedValueBytes: 1_024 }))

  it("the default limit is 1 MiB", () =>
    withExecutor(async (executor, rows) => {
      const task = executor.task({ id: "t", timeoutMs: 1_000, run: (_ctx, _input: string) => "ran" })
      const error = await caught(() => executor.enqueueTask(task, "x".repeat(1_048_575)))
      expect(error).toBeInstanceOf(DurableValueError)
      expect(error.message).toContain("over the limit of 1048576 bytes")
      expect(rows()).toEqual([])
      await executor.enqueueTask(task, "x".repeat(1_048_574))
      expect(rows()).toHaveLength(1)
    }))
})

describe("unstorable outputs", () => {
  it.each([
    ["a function", () => ({ total: () => 10 }), "output.total is a function"],
    ["a class instance", () => ({ at: new (class Point {})() }), "output.at is an instance of class Point"]
  ])(
    "an output with %s ends failed with a clear error, and the executor keeps running",
    (_what, make, problem) =>
      withExecutor(async (executor) => {
        let runs = 0
        const bad = executor.task({
          id: "bad",
          timeoutMs: 1_000,
          retryOptions: { maxAttempts: 3 },
          run: () => {
            runs++
            return make()
          }
        })
        const good = executor.task({ id: "good", timeoutMs: 1_000, run: () => "still working" })
        const failed = await (await executor.enqueueTask(bad, undefined)).waitAndGetExecution()
        expect(failed.status).toBe("failed")
        expect(failed.error?.message).toContain("output of task 'bad' cannot be stored: ")
        expect(failed.error?.message).toContain(problem)
        expect(failed.error?.isRetryable).toBe(false)
        expect(runs).toBe(1) // a deterministic failure is not retried
        const done = await (await executor.enqueueTask(good, undefined)).waitAndGetExecution()
        expect(done.output).toBe("still working")
      })
  )

  it("an output over the size limit ends failed", () =>
    withExecutor(async (executor) => {
      const big = executor.task({ id: "big", timeoutMs: 1_000, run: () => "y".repeat(600) })
      const failed = await (await executor.enqueueTask(big, undefined)).waitAndGetExecution()
      expect(failed.status).toBe("failed")
      expect(failed.error?.message).toBe("output of task 'big' is 602 bytes serialized, over the limit of 512 bytes")
    }, { maxSerializedValueBytes: 512 }))

  it("a parent returning more children than allowed ends failed and inserts none", () =>
    withExecutor(async (executor, rows) => {
      const child = executor.task({ id: "child", timeoutMs: 1_000, run: ok })
      const parent = executor.parentTask({
        id: "parent",
        timeoutMs: 1_000,
        runParent: () => ({ output: 0, childrenTasks: [1, 2, 3].map((input) => ({ task: child, input })) })
      })
      const failed = await (await executor.enqueueTask(parent, undefined)).waitAndGetExecution()
      expect(failed.status).toBe("failed")
      expect(failed.error?.message).toBe("task 'parent' returned 3 children, over the limit of 2")
      expect(rows()).toHaveLength(1)
    }, { maxChildrenPerParent: 2 }))

  it("a child whose input fails its validator fails the parent and inserts no child", () =>
    withExecutor(async (executor, rows) => {
      const child = executor.inputSchema(z.number()).task({ id: "child", timeoutMs: 1_000, run: ok })
      const parent = executor.parentTask({
        id: "parent",
        timeoutMs: 1_000,
        runParent: () => ({ output: 0, childrenTasks: [{ task: child, input: 1 }, { task: child, input: "two" }] })
      })
      const failed = await (await executor.enqueueTask(parent, undefined)).waitAndGetExecution()
      expect(failed.status).toBe("failed")
      expect(failed.error?.message).toContain("task 'parent': input of child 1 (task 'child') is invalid")
      expect(rows()).toHaveLength(1)
    }))
})

describe("unknown execution ids", () => {
  it("getTaskHandle rejects with DurableExecutionNotFoundError", () =>
    withExecutor(async (executor) => {
      const task = executor.task({ id: "t", timeoutMs: 1_000, run: ok })
      const error = await caught(() => executor.getTaskHandle(task, "te_doesnotexist"))
      expect(error).toBeInstanceOf(DurableExecutionNotFoundError)
      expect(error.message).toBe("task execution te_doesnotexist not found")
    }))

  it("getTaskHandle with the wrong task rejects too", () =>
    withExecutor(async (executor) => {
      const a = executor.task({ id: "a", timeoutMs: 1_000, run: ok })
      const b = executor.task({ id: "b", timeoutMs: 1_000, run: ok })
      const handle = await executor.enqueueTask(a, 1)
      const error = await caught(() => executor.getTaskHandle(b, handle.getExecutionId()))
      expect(error).toBeInstanceOf(DurableExecutionNotFoundError)
      expect(error.message).toContain("is not an execution of task 'b'")
    }))

  it.effect("the Effect API fails get, wait and cancel with ExecutionNotFound", () =>
    Effect.gen(function*() {
      const dx = yield* DurableExecutorEffect.DurableExecutor
      for (const op of [dx.get("te_x"), dx.wait("te_x"), dx.cancel("te_x")]) {
        const error = yield* Effect.flip(op)
        expect(error._tag).toBe("ExecutionNotFound")
        expect(error.message).toBe("task execution te_x not found")
      }
    }).pipe(Effect.provide(DurableExecutorEffect.layerMemory())))
})

describe("wait options", () => {
  it("waitAndGetExecution rejects a polling interval below 1 ms, and the execution still completes", () =>
    withExecutor(async (executor) => {
      const task = executor.task({ id: "t", timeoutMs: 1_000, run: ok })
      const handle = await executor.enqueueTask(task, 7)
      for (const pollingIntervalMs of [0, -5, 0.5]) {
        const error = await caught(() => handle.waitAndGetExecution({ pollingIntervalMs }))
        expect(error).toBeInstanceOf(DurableExecutorOptionsError)
        expect(error.message).toBe(
          `waitAndGetExecution: pollingIntervalMs must be an integer from 1 to 3600000, got ${pollingIntervalMs}`
        )
      }
      const execution = await handle.waitAndGetExecution({ pollingIntervalMs: 10 })
      expect(execution.status).toBe("completed")
      expect(execution.output).toBe(7)
    }))
})
