/**
 * Executor options, facade and Effect layers: bad values and unknown keys are refused, naming them.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as DurableExecutorEffect from "../src/DurableExecutor.js"
import { DurableExecutor, DurableExecutorOptionsError } from "../src/index.js"
import * as Task from "../src/Task.js"
import { inspectableStorage } from "./support/facade.js"

describe("executor options", () => {
  it.each([
    [{ maxConcurrentTaskExecutions: 0 }, "maxConcurrentTaskExecutions must be an integer from 1"],
    [{ pollIntervalMs: 0 }, "pollIntervalMs must be an integer from 1"],
    [{ leaseLeewayMs: -1 }, "leaseLeewayMs must be an integer from 0"],
    [{ shutdownGracePeriodMs: 1.5 }, "shutdownGracePeriodMs must be an integer"],
    [{ maxSerializedValueBytes: 8 }, "maxSerializedValueBytes must be an integer from 16"],
    [{ executorId: "has space" }, "executorId must be 1 to 128 characters"],
    [{ pollInterval: 10 }, "unknown option 'pollInterval' (did you mean 'pollIntervalMs'?)"],
    [{ maxConcurentTaskExecutions: 5 }, "did you mean 'maxConcurrentTaskExecutions'?"],
    [{ pollIntervalMs: "1000" }, "pollIntervalMs must be a number, got string \"1000\""],
    [{ logLevel: "verbose" }, "logLevel must be one of \"none\", \"error\", \"warning\", \"info\", \"debug\""]
  ])("%j is refused", (options, message) => {
    const error = (() => {
      try {
        new DurableExecutor(inspectableStorage().storage, options as never)
      } catch (e) {
        return e as Error
      }
      throw new Error("expected an error")
    })()
    expect(error).toBeInstanceOf(DurableExecutorOptionsError)
    expect(error.message).toContain(message)
  })

  it("a missing storage is refused", () => {
    expect(() => new DurableExecutor(undefined as never)).toThrow(DurableExecutorOptionsError)
    expect(() => new DurableExecutor({} as never)).toThrow("DurableExecutor needs a storage")
  })

  it.effect("the Effect API refuses bad settings when the layer is built", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        Effect.provide(
          DurableExecutorEffect.DurableExecutor,
          DurableExecutorEffect.layerMemory({ maxConcurrentTaskExecutions: 0 })
        )
      )
      // A typed failure (not a defect) that names the field.
      const failure = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : undefined
      expect(failure?._tag).toBe("Some")
      const error = failure?._tag === "Some" ? failure.value : undefined
      expect(error?._tag).toBe("InvalidExecutorConfig")
      expect(error?.message).toContain("maxConcurrentTaskExecutions must be an integer from 1")
    }))

  it.effect("the Effect API refuses an unknown layer option, naming the nearest one", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Effect.provide(
          DurableExecutorEffect.DurableExecutor,
          DurableExecutorEffect.layerMemory({ pollIntervall: 5 } as never)
        )
      )
      expect(error._tag).toBe("InvalidExecutorConfig")
      expect(error.message).toContain("unknown option 'pollIntervall' (did you mean 'pollInterval'?)")
    }))

  it.effect("the Effect API refuses a bad task definition when it is made", () =>
    Effect.sync(() => {
      expect(() => Task.make({ id: "bad id", timeoutMs: 1, run: () => Effect.void })).toThrow("printable ASCII")
      expect(() => Task.make({ id: "t", timeoutMs: 0, run: () => Effect.void })).toThrow("timeoutMs")
    }))
})
