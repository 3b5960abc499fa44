/**
 * Executor settings for Effect apps: durations as `Duration.DurationInput`, settings from Effect
 * `Config` (`DURABLE_TASKS_*`), and every invalid setting as a typed `InvalidExecutorConfig`.
 */
import { describe, expect, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as DurableExecutor from "../src/DurableExecutor.js"
import * as ExecutorConfig from "../src/ExecutorConfig.js"
import * as MemoryStorage from "../src/MemoryStorage.js"
import * as Signals from "../src/Signals.js"
import * as Task from "../src/Task.js"

const fromEnv = (env: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

const echo = Task.make({ id: "echo", timeoutMs: 1_000, run: (s: string) => Effect.succeed(s) })

describe("durations", () => {
  it("a duration setting takes any Duration.DurationInput", () => {
    const settings = ExecutorConfig.fromOptions({ pollInterval: "250 millis", leaseLeeway: "2 seconds" }, "options")
    expect(Either.getOrThrow(settings)).toMatchObject({ pollIntervalMs: 250, leaseLeewayMs: 2_000 })
  })

  it("a duration and its …Ms twin together, or a duration that does not decode, are refused", () => {
    expect(ExecutorConfig.fromOptions({ pollInterval: "1 second", pollIntervalMs: 5 }, "options")).toEqual(
      Either.left("options: give pollInterval or pollIntervalMs, not both")
    )
    expect(ExecutorConfig.fromOptions({ pollInterval: "soon" }, "options")).toEqual(
      Either.left("pollInterval must be a duration (e.g. \"10 seconds\"), got string \"soon\"")
    )
  })

  it.live("the layer runs with durations", () =>
    Effect.gen(function*() {
      const dx = yield* DurableExecutor.DurableExecutor
      const id = yield* dx.enqueue(echo, "hi")
      expect((yield* dx.wait(id)).output).toBe("hi")
    }).pipe(Effect.provide(DurableExecutor.layerMemory({ tasks: [echo], pollInterval: "20 millis" }))))
})

describe("layerConfig", () => {
  it.effect("reads DURABLE_TASKS_* settings, keeping options for what is not set", () =>
    Effect.gen(function*() {
      const settings = yield* ExecutorConfig.config({ pollIntervalMs: 77 }).pipe(
        fromEnv({ "DURABLE_TASKS_MAX_CONCURRENT_TASK_EXECUTIONS": "3", "DURABLE_TASKS_EXECUTOR_ID": "worker-1" })
      )
      expect(settings).toMatchObject({ maxConcurrentTaskExecutions: 3, executorId: "worker-1", pollIntervalMs: 77 })
      expect(settings.leaseLeewayMs).toBe(ExecutorConfig.defaults.leaseLeewayMs)
    }))

  it.effect("a value that is not an integer, or out of range, is a typed error naming the setting", () =>
    Effect.gen(function*() {
      const notInt = yield* Effect.flip(
        ExecutorConfig.config().pipe(fromEnv({ "DURABLE_TASKS_POLL_INTERVAL_MS": "soon" }))
      )
      expect(notInt._tag).toBe("InvalidExecutorConfig")
      expect(notInt.message).toContain("POLL_INTERVAL_MS")
      const outOfRange = yield* Effect.flip(
        ExecutorConfig.config().pipe(fromEnv({ "DURABLE_TASKS_MAX_CONCURRENT_TASK_EXECUTIONS": "0" }))
      )
      expect(outOfRange.message).toContain("maxConcurrentTaskExecutions must be an integer from 1 to 100000, got 0")
    }))

  it.live("the executor runs with settings from config", () =>
    Effect.gen(function*() {
      const dx = yield* DurableExecutor.DurableExecutor
      expect(dx.executorId).toBe("from-env")
      const id = yield* dx.enqueue(echo, "configured")
      expect((yield* dx.wait(id)).output).toBe("configured")
    }).pipe(
      Effect.provide(
        DurableExecutor.layerConfig({ tasks: [echo] }).pipe(
          Layer.provide(Layer.merge(MemoryStorage.layer, Signals.layerMemory)),
          Layer.provide(
            Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["DURABLE_TASKS_EXECUTOR_ID", "from-env"]])))
          )
        )
      )
    ))
})
