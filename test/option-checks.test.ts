/**
 * Options are checked, not guessed: an unknown key in task options (every kind, both faces),
 * `retryOptions` or enqueue options is refused with an error naming it and the nearest valid key; a
 * wrong type is named as a type; `runParent`'s result is checked, and a malformed one fails its
 * execution without retries. Nothing is stored for a refused call.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as DurableExecutorEffect from "../src/DurableExecutor.js"
import { InvalidTaskDefinition } from "../src/EngineError.js"
import { DurableExecutor, DurableTaskDefinitionError } from "../src/index.js"
import * as Task from "../src/Task.js"
import { caught, thrown } from "./support/caught.js"
import { inspectableStorage, withExecutor } from "./support/facade.js"

const ok = (_ctx: unknown, input: unknown) => input

describe("facade task options", () => {
  const define = (options: unknown, kind: "task" | "parentTask" = "task") => {
    const executor = new DurableExecutor(inspectableStorage().storage, { logLevel: "none" })
    return thrown(() => (kind === "task" ? executor.task(options as never) : executor.parentTask(options as never)))
  }

  it.each([
    [
      { id: "t", timeoutMs: 1_000, sleepBeforeRunMs: 5, run: ok },
      "task",
      "task 't': unknown option 'sleepBeforeRunMs' (did you mean 'sleepMsBeforeRun'?)"
    ],
    [
      { id: "t", timeoutMS: 1_000, run: ok },
      "task",
      "task 't': unknown option 'timeoutMS' (did you mean 'timeoutMs'?)"
    ],
    [
      { id: "t", timeoutMs: 1_000, retry: { maxAttempts: 1 }, run: ok },
      "task",
      "task 't': unknown option 'retry' (did you mean 'retryOptions'?)"
    ],
    [
      { id: "t", timeoutMs: 1_000, runParent: () => ({ output: 1 }), run: ok },
      "task",
      "task 't': unknown option 'runParent'"
    ],
    [
      { id: "p", timeoutMs: 1_000, runParent: () => ({ output: 1 }), finalize: { id: "f", timeoutMs: 1, run: ok } },
      "parentTask",
      "task 'p': unknown option 'finalize' (did you mean 'finalizeTask'?)"
    ],
    [
      {
        id: "p",
        timeoutMs: 1_000,
        runParent: () => ({ output: 1 }),
        finalizeTask: { id: "f", timeoutMs: 1, run: ok, timout: 3 }
      },
      "parentTask",
      "task 'f': unknown option 'timout'"
    ]
  ])("%j is refused, naming the key", (options, kind, message) => {
    const error = define(options, kind as "task" | "parentTask")
    expect(error).toBeInstanceOf(DurableTaskDefinitionError)
    expect(error.message).toContain(message)
  })

  it.each([
    [{ id: "t", timeoutMs: "1000", run: ok }, "task 't': timeoutMs must be a number, got string \"1000\""],
    [
      { id: "t", timeoutMs: 1_000, sleepMsBeforeRun: "5", run: ok },
      "task 't': sleepMsBeforeRun must be a number, got string \"5\""
    ],
    [{ id: "t", timeoutMs: 1_000, retryOptions: null, run: ok }, "task 't': retryOptions must be an object"],
    [
      { id: "t", timeoutMs: 1_000, retryOptions: "3", run: ok },
      "task 't': retryOptions must be an object { maxAttempts, baseDelayMs, delayMultiplier, maxDelayMs }, got " +
      "string \"3\""
    ],
    [{ id: "t", timeoutMs: 1_000, retryOptions: [3], run: ok }, "task 't': retryOptions must be an object"],
    [
      { id: "t", timeoutMs: 1_000, retryOptions: { maxAttempts: "3" }, run: ok },
      "task 't': retryOptions.maxAttempts must be a number, got string \"3\""
    ],
    [
      { id: "t", timeoutMs: 1_000, retryOptions: { maxAttempts: null }, run: ok },
      "task 't': retryOptions.maxAttempts must be a number, got null"
    ],
    [
      { id: "t", timeoutMs: 1_000, retryOptions: { maxAttempt: 3 }, run: ok },
      "task 't': retryOptions: unknown option 'maxAttempt' (did you mean 'maxAttempts'?)"
    ],
    [
      { id: "t", timeoutMs: 1_000, retryOptions: { baseDelay: 3 }, run: ok },
      "retryOptions: unknown option 'baseDelay' (did you mean 'baseDelayMs'?)"
    ],
    [{ id: "t", timeoutMs: 1_000 }, "task 't': run must be a function, got undefined"],
    [{ id: "t", timeoutMs: 1_000, run: "go" }, "task 't': run must be a function, got string \"go\""],
    [null, "task options must be an object, got null"],
    [undefined, "task options must be an object, got undefined"]
  ])("%j is refused with the type named", (options, message) => {
    const error = define(options)
    expect(error).toBeInstanceOf(DurableTaskDefinitionError)
    expect(error.message).toContain(message)
  })

  it("a parent task's runParent and finalizeTask are checked", () => {
    expect(define({ id: "p", timeoutMs: 1_000 }, "parentTask").message).toBe(
      "task 'p': runParent must be a function, got undefined"
    )
    expect(
      define({ id: "p", timeoutMs: 1_000, runParent: () => ({ output: 1 }), finalizeTask: null }, "parentTask").message
    )
      .toBe("finalizeTask options of task 'p' must be an object, got null")
    expect(
      define({
        id: "p",
        timeoutMs: 1_000,
        runParent: () => ({ output: 1 }),
        finalizeTask: { id: "f", timeoutMs: 1_000 }
      }, "parentTask").message
    )
      .toBe("task 'f': run must be a function, got undefined")
  })

  it("a refused definition registers nothing: the id stays free", () =>
    withExecutor(async (executor, rows) => {
      expect(() => executor.task({ id: "t", timeoutMs: 1_000, sleepBeforeRunMs: 5, run: ok } as never)).toThrow(
        "sleepMsBeforeRun"
      )
      const task = executor.task({ id: "t", timeoutMs: 1_000, run: ok })
      expect((await (await executor.enqueueTask(task, 1)).waitAndGetExecution()).output).toBe(1)
      expect(rows()).toHaveLength(1)
    }))
})

describe("facade enqueue options", () => {
  it.each([
    [
      { sleepBeforeRunMs: 5 },
      "enqueue options of task 't': unknown option 'sleepBeforeRunMs' (did you mean 'sleepMsBeforeRun'?)"
    ],
    [{ timeout: 5 }, "enqueue options of task 't': unknown option 'timeout' (did you mean 'timeoutMs'?)"],
    [{ timeoutMs: "1000" }, "task 't': timeoutMs must be a number, got string \"1000\""],
    [{ timeoutMs: null }, "task 't': timeoutMs must be a number, got null"],
    [{ retryOptions: null }, "task 't': retryOptions must be an object"],
    [
      { retryOptions: "3" },
      "task 't': retryOptions must be an object { maxAttempts, baseDelayMs, delayMultiplier, maxDelayMs }, got " +
      "string \"3\""
    ],
    [{ retryOptions: { maxAttemps: 3 } }, "retryOptions: unknown option 'maxAttemps' (did you mean 'maxAttempts'?)"],
    ["fast", "enqueue options of task 't' must be an object, got string \"fast\""]
  ])("%j is refused and nothing is stored", (options, message) =>
    withExecutor(async (executor, rows) => {
      const task = executor.task({ id: "t", timeoutMs: 1_000, run: ok })
      for (
        const enqueue of [
          () => executor.enqueueTask(task, 1, options as never),
          () => executor.enqueueTasks(task, [1, 2], options as never)
        ]
      ) {
        const error = await caught(enqueue)
        expect(error).toBeInstanceOf(DurableTaskDefinitionError)
        expect(error.message).toContain(message)
      }
      expect(rows()).toEqual([])
    }))

  it("valid overrides still apply", () =>
    withExecutor(async (executor) => {
      const task = executor.task({ id: "t", timeoutMs: 1_000, run: ok })
      const done = await (await executor.enqueueTask(task, 1, {
        timeoutMs: 2_000,
        retryOptions: { maxAttempts: 2 },
        sleepMsBeforeRun: undefined
      }))
        .waitAndGetExecution()
      expect(done.timeoutMs).toBe(2_000)
      expect(done.retryOptions.maxAttempts).toBe(2)
    }))
})

describe("runParent results", () => {
  const cases: ReadonlyArray<readonly [string, (child: unknown, other: unknown) => unknown, string]> = [
    [
      "childrenTasks not an array",
      () => ({ output: 1, childrenTasks: "child" }),
      "returned childrenTasks that is not an array: string \"child\""
    ],
    [
      "a child without a task",
      (child) => ({ output: 1, childrenTasks: [{ task: child, input: 1 }, { task: child, input: 2 }, { input: 3 }] }),
      "returned childrenTasks[2] without a task"
    ],
    [
      "a child that is not an object",
      () => ({ output: 1, childrenTasks: [42] }),
      "returned childrenTasks[0] that is not { task, input }: number 42"
    ],
    [
      "a child whose task is not a task",
      () => ({ output: 1, childrenTasks: [{ task: "child", input: 1 }] }),
      "returned childrenTasks[0] with a wrong task: expected a task defined with this executor " +
      "(executor.task(...)), got string \"child\""
    ],
    [
      "a child whose task is another executor's",
      (_child, other) => ({ output: 1, childrenTasks: [{ task: other, input: 1 }] }),
      "returned childrenTasks[0] with a wrong task: task 'elsewhere' was not defined with this executor"
    ],
    ["a result that is not an object", () => 42, "returned number 42, not an object { output, childrenTasks }"],
    ["no result", () => undefined, "returned undefined, not an object { output, childrenTasks }"],
    [
      "the Effect API's children key",
      (child) => ({ output: 1, children: [{ task: child, input: 1 }] }),
      "returned an unknown key 'children' (did you mean 'childrenTasks'?)"
    ]
  ]

  it.each(cases)(
    "%s fails the execution, not retried, naming the problem",
    (_what, result, problem) =>
      withExecutor(async (executor, rows) => {
        const other = new DurableExecutor(inspectableStorage().storage, { logLevel: "none" })
        const elsewhere = other.task({ id: "elsewhere", timeoutMs: 1_000, run: ok })
        const child = executor.task({ id: "child", timeoutMs: 1_000, run: ok })
        let runs = 0
        for (const async of [false, true]) {
          const parent = executor.parentTask({
            id: `parent-${async ? "async" : "sync"}`,
            timeoutMs: 1_000,
            retryOptions: { maxAttempts: 3 },
            runParent: (() => {
              runs++
              return async ? Promise.resolve(result(child, elsewhere)) : result(child, elsewhere)
            }) as never
          })
          const failed = await (await executor.enqueueTask(parent)).waitAndGetExecution()
          expect(failed.status).toBe("failed")
          expect(failed.error?.message).toBe(`runParent of task '${parent.id}' ${problem}`)
          expect(failed.error?.isRetryable).toBe(false)
        }
        expect(runs).toBe(2) // one run each: not retried
        expect(rows()).toHaveLength(2) // no child was inserted
        await other.shutdown()
      })
  )
})

describe("Effect API task options", () => {
  const refused = (f: () => unknown, message: string) => {
    const error = thrown(f)
    expect(error).toBeInstanceOf(InvalidTaskDefinition)
    expect(error.message).toContain(message)
  }

  it.effect("unknown keys, wrong types and missing functions are refused with InvalidTaskDefinition", () =>
    Effect.sync(() => {
      const run = () => Effect.void
      refused(
        () => Task.make({ id: "t", timeoutMs: 1, sleepBeforeRunMs: 5, run } as never),
        "task 't': unknown option 'sleepBeforeRunMs' (did you mean 'sleepMsBeforeRun'?)"
      )
      refused(
        () => Task.make({ id: "t", timeoutMs: "1000", run } as never),
        "task 't': timeoutMs must be a number, got string \"1000\""
      )
      refused(
        () => Task.make({ id: "t", timeoutMs: 1, retryOptions: null, run } as never),
        "task 't': retryOptions must be an object"
      )
      refused(() => Task.make({ id: "t", timeoutMs: 1, retryOptions: "3", run } as never), "got string \"3\"")
      refused(
        () => Task.make({ id: "t", timeoutMs: 1, retryOptions: { maxAttempt: 1 }, run } as never),
        "did you mean 'maxAttempts'?"
      )
      refused(() => Task.make({ id: "t", timeoutMs: 1 } as never), "task 't': run must be a function, got undefined")
      refused(
        () => Task.make({ id: "t", timeoutMs: 1, input: "string", run } as never),
        "task 't': input must be an effect Schema, got string"
      )
      refused(() => Task.make(undefined as never), "task options must be an object, got undefined")
      refused(
        () => Task.parent({ id: "p", timeoutMs: 1, runParent: run, finalise: {} } as never),
        "did you mean 'finalize'?"
      )
      refused(() => Task.parent({ id: "p", timeoutMs: 1 } as never), "task 'p': runParent must be a function")
      refused(
        () =>
          Task.parent(
            {
              id: "p",
              timeoutMs: 1,
              runParent: run,
              finalize: { id: "f", timeoutMs: 1, run, outputs: Schema.String }
            } as never
          ),
        "task 'f': unknown option 'outputs' (did you mean 'output'?)"
      )
      refused(
        () => Task.parent({ id: "p", timeoutMs: 1, runParent: run, finalize: null } as never),
        "finalize options of task 'p' must be an object, got null"
      )
    }))

  it.effect("bad enqueue options fail with InvalidTaskDefinition, and nothing is stored", () =>
    Effect.gen(function*() {
      const dx = yield* DurableExecutorEffect.DurableExecutor
      const task = Task.make({ id: "t", timeoutMs: 1_000, run: (n: number) => Effect.succeed(n) })
      const error = yield* Effect.flip(dx.enqueue(task, 1, { sleepBeforeRunMs: 5 } as never))
      expect(error._tag).toBe("InvalidTaskDefinition")
      expect(error.message).toBe(
        "enqueue options of task 't': unknown option 'sleepBeforeRunMs' (did you mean 'sleepMsBeforeRun'?)"
      )
      const typed = yield* Effect.flip(dx.enqueueMany(task, [1], { retryOptions: "3" } as never))
      expect(typed.message).toContain("retryOptions must be an object")
    }).pipe(Effect.provide(DurableExecutorEffect.layerMemory())))
})
