/**
 * OpenTelemetry spans, exported by an in-memory exporter: the enqueue span is a child of the
 * caller's span, each attempt's run span a child of the enqueue span (in whichever executor claims
 * it), a child's run spans children of its parent's run span, and a whole tree one trace. A run in
 * another executor on the same SQLite file continues the trace that the first one stored.
 */
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import * as DurableExecutor from "../src/DurableExecutor.js"
import * as SqliteStorage from "../src/SqliteStorage.js"
import * as Task from "../src/Task.js"
import { makeTracing, parentIdOf } from "./support/otel.js"
import { tempDir } from "./support/sql.js"

const retry = { maxAttempts: 1, baseDelayMs: 1, delayMultiplier: 1, maxDelayMs: 1 }

const byExecution = (spans: ReadonlyArray<ReadableSpan>, executionId: string) =>
  spans.filter((s) => s.attributes["durable_tasks.execution_id"] === executionId)

describe("spans of one execution", () => {
  it("caller → enqueue → run per attempt (children), and the task's own spans under its run", async () => {
    const tracing = makeTracing()
    let calls = 0
    const flaky = Task.make({
      id: "flaky",
      timeoutMs: 5_000,
      retryOptions: retry,
      run: (n: number) =>
        Effect.withSpan(
          Effect.suspend(() => (++calls === 1 ? Effect.fail(new Error("first try fails")) : Effect.succeed(n + 1))),
          "user-work"
        )
    })
    const program = Effect.gen(function*() {
      const executor = yield* DurableExecutor.DurableExecutor
      const executionId = yield* executor.enqueue(flaky, 1).pipe(Effect.withSpan("caller"))
      const done = yield* executor.wait(executionId, { pollIntervalMs: 20 })
      return { executionId, executorId: executor.executorId, done }
    })
    const layer = DurableExecutor.layerMemory({ tasks: [flaky], pollIntervalMs: 50 }).pipe(Layer.provide(tracing.layer))
    const { done, executionId, executorId } = await Effect.runPromise(program.pipe(Effect.provide(layer)))
    expect(done.status).toBe("completed")

    const [caller] = tracing.named("caller")
    const [enqueue] = tracing.named("durable-tasks.enqueue")
    const runs = tracing.named("durable-tasks.run")
    expect(caller).toBeDefined()
    expect(enqueue!.spanContext().traceId).toBe(caller!.spanContext().traceId)
    expect(parentIdOf(enqueue!)).toBe(caller!.spanContext().spanId)
    expect(enqueue!.attributes).toMatchObject({
      "durable_tasks.task_id": "flaky",
      "durable_tasks.execution_id": executionId
    })

    expect(runs).toHaveLength(2)
    for (const run of runs) {
      expect(run.spanContext().traceId).toBe(caller!.spanContext().traceId)
      expect(parentIdOf(run)).toBe(enqueue!.spanContext().spanId)
    }
    const [first, second] = [...runs].sort((a, b) =>
      Number(a.attributes["durable_tasks.attempt"]) - Number(b.attributes["durable_tasks.attempt"])
    )
    expect(first!.attributes).toMatchObject({
      "durable_tasks.task_id": "flaky",
      "durable_tasks.execution_id": executionId,
      "durable_tasks.attempt": 0,
      "durable_tasks.executor_id": executorId,
      "durable_tasks.outcome": "failed",
      "durable_tasks.status": "ready"
    })
    expect(first!.status.code).toBe(2) // ERROR
    expect(second!.attributes).toMatchObject({
      "durable_tasks.attempt": 1,
      "durable_tasks.outcome": "succeeded",
      "durable_tasks.status": "completed"
    })
    // The task's own spans are children of its attempt's run span.
    const work = tracing.named("user-work")
    expect(work).toHaveLength(2)
    expect(work.map(parentIdOf).sort()).toEqual(runs.map((r) => r.spanContext().spanId).sort())
  })

  it("without a tracer layer, no trace context is stored and runs work as before", async () => {
    const plain = Task.make({ id: "plain", timeoutMs: 1_000, run: (n: number) => Effect.succeed(n) })
    const row = await Effect.runPromise(
      Effect.gen(function*() {
        const executor = yield* DurableExecutor.DurableExecutor
        const id = yield* executor.enqueue(plain, 1).pipe(Effect.withSpan("caller"))
        return yield* executor.wait(id, { pollIntervalMs: 20 })
      }).pipe(Effect.provide(DurableExecutor.layerMemory({ tasks: [plain], pollIntervalMs: 50 })))
    )
    expect(row.status).toBe("completed")
  })
})

describe("a task tree", () => {
  it("is one trace: children under their parent's run span, the finalize task under the enqueue span", async () => {
    const tracing = makeTracing()
    const leaf = Task.make({ id: "leaf", timeoutMs: 1_000, run: (n: number) => Effect.succeed(n * 2) })
    const tree = Task.parent({
      id: "tree",
      timeoutMs: 1_000,
      runParent: (n: number) => Effect.succeed({ output: n, children: [Task.child(leaf, 1), Task.child(leaf, 2)] }),
      finalize: { id: "tree_sum", timeoutMs: 1_000, run: (input) => Effect.succeed(input.childrenTasksOutputs.length) }
    })
    const layer = DurableExecutor.layerMemory({ tasks: [tree], pollIntervalMs: 50 }).pipe(Layer.provide(tracing.layer))
    const done = await Effect.runPromise(
      Effect.gen(function*() {
        const executor = yield* DurableExecutor.DurableExecutor
        const id = yield* executor.enqueue(tree, 3)
        return yield* executor.wait(id, { pollIntervalMs: 20 })
      }).pipe(Effect.provide(layer))
    )
    expect(done.status).toBe("completed")

    const spans = tracing.spans()
    const [enqueue] = tracing.named("durable-tasks.enqueue")
    const runs = tracing.named("durable-tasks.run")
    const runOf = (taskId: string) => runs.filter((s) => s.attributes["durable_tasks.task_id"] === taskId)
    expect(runs).toHaveLength(4)
    expect(new Set(spans.map((s) => s.spanContext().traceId)).size).toBe(1)
    const [parentRun] = runOf("tree")
    expect(parentIdOf(parentRun!)).toBe(enqueue!.spanContext().spanId)
    expect(parentRun!.attributes["durable_tasks.status"]).toBe("waiting_for_children_tasks")
    expect(runOf("leaf").map(parentIdOf)).toEqual([parentRun!.spanContext().spanId, parentRun!.spanContext().spanId])
    expect(runOf("tree_sum").map(parentIdOf)).toEqual([enqueue!.spanContext().spanId])
  })
})

describe("across processes", () => {
  it("SQLite file: a run in another executor (its own tracer provider) continues the stored trace", async () => {
    const tmp = tempDir()
    try {
      const filename = path.join(tmp.dir, "trace.db")
      const work = Task.make({ id: "work", timeoutMs: 1_000, run: (n: number) => Effect.succeed(n + 1) })
      const producer = makeTracing("producer")
      const consumer = makeTracing("consumer")
      // Process A only enqueues: the execution is due after A shut down, so B claims it.
      const executionId = await Effect.runPromise(
        Effect.gen(function*() {
          const executor = yield* DurableExecutor.DurableExecutor
          return yield* executor.enqueue(work, 41, { sleepMsBeforeRun: 300 }).pipe(Effect.withSpan("request"))
        }).pipe(
          Effect.provide(
            DurableExecutor.layer({ pollIntervalMs: 50 }).pipe(
              Layer.provide(SqliteStorage.layer({ filename })),
              Layer.provide(producer.layer)
            )
          )
        )
      )
      expect(consumer.spans()).toHaveLength(0)
      // Process B runs it.
      const done = await Effect.runPromise(
        Effect.gen(function*() {
          const executor = yield* DurableExecutor.DurableExecutor
          return yield* executor.wait(executionId, { pollIntervalMs: 20 })
        }).pipe(
          Effect.provide(
            DurableExecutor.layer({ tasks: [work], pollIntervalMs: 50 }).pipe(
              Layer.provide(SqliteStorage.layer({ filename })),
              Layer.provide(consumer.layer)
            )
          )
        )
      )
      expect(done.output).toBe(42)
      const [request] = producer.named("request")
      const [enqueue] = producer.named("durable-tasks.enqueue")
      expect(producer.named("durable-tasks.run")).toHaveLength(0)
      const runs = byExecution(consumer.named("durable-tasks.run"), executionId)
      expect(runs).toHaveLength(1)
      expect(runs[0]!.spanContext().traceId).toBe(request!.spanContext().traceId)
      expect(parentIdOf(runs[0]!)).toBe(enqueue!.spanContext().spanId)
    } finally {
      tmp.remove()
    }
  })
})
