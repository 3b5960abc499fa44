/**
 * The engine's metrics after a known workload (task ids of their own: metrics are process-wide), and
 * the log annotations of a run: the task's own Effect logs carry its execution.
 */
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import { describe, expect, it } from "vitest"
import * as DurableExecutor from "../src/DurableExecutor.js"
import * as Metrics from "../src/Metrics.js"
import * as Task from "../src/Task.js"

const counterOf = (metric: Metric.Metric.Counter<number>, tags: Record<string, string>) =>
  Effect.runSync(
    Metric.value(Object.entries(tags).reduce((m, [k, v]) => Metric.tagged(m, k, v), metric))
  ).count

const histogramCountOf = (metric: typeof Metrics.queueWait, taskId: string) =>
  Effect.runSync(Metric.value(Metric.tagged(metric, "task_id", taskId))).count

describe("metrics", () => {
  it("count enqueues, starts, attempts by outcome and finishes by status; time queue waits and runs", async () => {
    let calls = 0
    const ok = Task.make({ id: "m_ok", timeoutMs: 1_000, run: (n: number) => Effect.succeed(n) })
    const bad = Task.make({
      id: "m_bad",
      timeoutMs: 1_000,
      retryOptions: { maxAttempts: 1, baseDelayMs: 1, delayMultiplier: 1, maxDelayMs: 1 },
      run: () => Effect.suspend(() => (calls++, Effect.fail(new Error("always"))))
    })
    const leaf = Task.make({ id: "m_leaf", timeoutMs: 1_000, run: (n: number) => Effect.succeed(n) })
    const tree = Task.parent({
      id: "m_tree",
      timeoutMs: 1_000,
      runParent: () => Effect.succeed({ output: 0, children: [Task.child(leaf, 1), Task.child(leaf, 2)] })
    })
    const hold = Task.make({ id: "m_hold", timeoutMs: 5_000, run: () => Effect.sleep("300 millis") })
    const program = Effect.gen(function*() {
      const executor = yield* DurableExecutor.DurableExecutor
      const gauge = Metric.tagged(Metrics.running, "executor_id", executor.executorId)
      const held = yield* executor.enqueue(hold, undefined)
      yield* Effect.sleep("150 millis")
      const whileHeld = (yield* Metric.value(gauge)).value
      yield* executor.wait(held, { pollIntervalMs: 20 })
      const ids = [
        ...(yield* executor.enqueueMany(ok, [1, 2, 3])),
        yield* executor.enqueue(bad, undefined),
        yield* executor.enqueue(tree, undefined)
      ]
      for (const id of ids) yield* executor.wait(id, { pollIntervalMs: 20 })
      // Sampled each poll interval: nothing runs at the samples after the last finish.
      yield* Effect.sleep("100 millis")
      return { whileHeld, after: (yield* Metric.value(gauge)).value }
    })
    const running = await Effect.runPromise(
      program.pipe(Effect.provide(DurableExecutor.layerMemory({ tasks: [ok, bad, tree, hold], pollIntervalMs: 20 })))
    )
    expect(calls).toBe(2)
    expect(counterOf(Metrics.enqueued, { task_id: "m_ok" })).toBe(3)
    expect(counterOf(Metrics.enqueued, { task_id: "m_bad" })).toBe(1)
    expect(counterOf(Metrics.enqueued, { task_id: "m_leaf" })).toBe(2) // children count as enqueued
    expect(counterOf(Metrics.started, { task_id: "m_ok" })).toBe(3)
    expect(counterOf(Metrics.started, { task_id: "m_bad" })).toBe(2)
    expect(counterOf(Metrics.attempts, { task_id: "m_bad", outcome: "failed" })).toBe(2)
    expect(counterOf(Metrics.attempts, { task_id: "m_ok", outcome: "succeeded" })).toBe(3)
    expect(counterOf(Metrics.finished, { task_id: "m_ok", status: "completed" })).toBe(3)
    expect(counterOf(Metrics.finished, { task_id: "m_bad", status: "failed" })).toBe(1)
    expect(counterOf(Metrics.finished, { task_id: "m_bad", status: "completed" })).toBe(0)
    expect(counterOf(Metrics.finished, { task_id: "m_tree", status: "completed" })).toBe(1)
    expect(counterOf(Metrics.finished, { task_id: "m_leaf", status: "completed" })).toBe(2)
    expect(histogramCountOf(Metrics.queueWait, "m_ok")).toBe(3)
    expect(histogramCountOf(Metrics.runDuration, "m_bad")).toBe(2)
    expect(running).toEqual({ whileHeld: 1, after: 0 })
  })
})

describe("log annotations", () => {
  it("a task's own Effect logs carry executionId, taskId and attempt", async () => {
    const seen: Array<Record<string, unknown>> = []
    const logger = Logger.make(({ annotations, message }) => {
      seen.push({ message: String(message), ...Object.fromEntries(HashMap.toEntries(annotations)) })
    })
    const talk = Task.make({ id: "talk", timeoutMs: 1_000, run: () => Effect.logInfo("hello from the task") })
    const executionId = await Effect.runPromise(
      Effect.gen(function*() {
        const executor = yield* DurableExecutor.DurableExecutor
        const id = yield* executor.enqueue(talk, undefined)
        yield* executor.wait(id, { pollIntervalMs: 20 })
        return id
      }).pipe(
        Effect.provide(
          DurableExecutor.layerMemory({ tasks: [talk], pollIntervalMs: 20 }).pipe(
            Layer.provide(Logger.replace(Logger.defaultLogger, logger))
          )
        )
      )
    )
    const line = Option.fromNullable(seen.find((l) => l["message"] === "hello from the task"))
    expect(Option.getOrThrow(line)).toMatchObject({ executionId, taskId: "talk", attempt: 0 })
  })
})
