/**
 * The Promise facade's `tracing: true`: spans go to the app's global OpenTelemetry tracer provider;
 * the caller's active span is the enqueue span's parent; the task's own OpenTelemetry spans are
 * children of its run span. Without the option, nothing is traced.
 */
import * as api from "@opentelemetry/api"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createInMemoryStorage, DurableExecutor, DurableExecutorOptionsError } from "../src/index.js"
import { makeTracing, parentIdOf, StackContextManager } from "./support/otel.js"

const tracing = makeTracing("facade")

beforeAll(() => {
  api.context.setGlobalContextManager(new StackContextManager())
  api.trace.setGlobalTracerProvider(tracing.provider)
})
afterAll(() => {
  api.trace.disable()
  api.context.disable()
})

describe("tracing: true", () => {
  it("enqueue under the caller's active span, run under the enqueue span, the task's spans under the run", async () => {
    const executor = new DurableExecutor(createInMemoryStorage(), { tracing: true, pollIntervalMs: 50 })
    const tracer = api.trace.getTracer("app")
    const task = executor.task({
      id: "traced",
      timeoutMs: 1_000,
      run: (_ctx, n: number) => tracer.startActiveSpan("app-work", (span) => (span.end(), n * 2))
    })
    await executor.start()
    try {
      const handle = await tracer.startActiveSpan("request", async (span) => {
        const h = await executor.enqueueTask(task, 21)
        span.end()
        return h
      })
      const done = await handle.waitAndGetExecution()
      expect(done.output).toBe(42)
      const batched = await tracer.startActiveSpan("batch", async (span) => {
        const hs = await executor.enqueueTasks(task, [1, 2])
        span.end()
        return hs
      })
      for (const h of batched) await h.waitAndGetExecution()
    } finally {
      await executor.shutdown()
    }
    const [request] = tracing.named("request")
    const enqueues = tracing.named("durable-tasks.enqueue")
    const enqueue = enqueues.find((s) => parentIdOf(s) === request!.spanContext().spanId)
    expect(enqueue).toBeDefined()
    const runs = tracing.named("durable-tasks.run").filter((s) => parentIdOf(s) === enqueue!.spanContext().spanId)
    expect(runs).toHaveLength(1)
    expect(runs[0]!.spanContext().traceId).toBe(request!.spanContext().traceId)
    expect(runs[0]!.attributes["durable_tasks.outcome"]).toBe("succeeded")
    const work = tracing.named("app-work").find((s) => s.spanContext().traceId === request!.spanContext().traceId)
    expect(work && parentIdOf(work)).toBe(runs[0]!.spanContext().spanId)
    // enqueueTasks: one enqueue span under the caller's, both runs under it.
    const [batch] = tracing.named("batch")
    const many = enqueues.filter((s) => parentIdOf(s) === batch!.spanContext().spanId)
    expect(many).toHaveLength(1)
    expect(tracing.named("durable-tasks.run").filter((s) => parentIdOf(s) === many[0]!.spanContext().spanId))
      .toHaveLength(2)
  })

  it("run spans: a failed attempt is ERROR, then retried; a tree is one trace, children under its run", async () => {
    const executor = new DurableExecutor(createInMemoryStorage(), { tracing: true, pollIntervalMs: 50 })
    let calls = 0
    const flaky = executor.task({
      id: "flaky_facade",
      timeoutMs: 1_000,
      retryOptions: { maxAttempts: 1, baseDelayMs: 1 },
      run: (_ctx, n: number) => {
        if (++calls === 1) throw new Error("first try fails")
        return n
      }
    })
    const leaf = executor.task({ id: "leaf_facade", timeoutMs: 1_000, run: (_ctx, n: number) => n * 2 })
    const tree = executor.parentTask({
      id: "tree_facade",
      timeoutMs: 1_000,
      runParent: (_ctx, n: number) => ({
        output: n,
        childrenTasks: [{ task: leaf, input: 1 }, { task: leaf, input: 2 }]
      })
    })
    await executor.start()
    let ids: { flaky: string; tree: string }
    try {
      const [f, t] = [await executor.enqueueTask(flaky, 7), await executor.enqueueTask(tree, 3)]
      expect((await f.waitAndGetExecution()).status).toBe("completed")
      expect((await t.waitAndGetExecution()).status).toBe("completed")
      ids = { flaky: f.getExecutionId(), tree: t.getExecutionId() }
    } finally {
      await executor.shutdown()
    }
    const runsOf = (executionId: string) =>
      tracing.named("durable-tasks.run").filter((s) => s.attributes["durable_tasks.execution_id"] === executionId)
    const [first, second] = [...runsOf(ids.flaky)].sort((a, b) =>
      Number(a.attributes["durable_tasks.attempt"]) - Number(b.attributes["durable_tasks.attempt"])
    )
    expect(first!.attributes).toMatchObject({
      "durable_tasks.task_id": "flaky_facade",
      "durable_tasks.attempt": 0,
      "durable_tasks.outcome": "failed",
      "durable_tasks.status": "ready"
    })
    expect(first!.attributes["durable_tasks.executor_id"]).toMatch(/^ex_/)
    expect(first!.status).toEqual({ code: api.SpanStatusCode.ERROR, message: "first try fails" })
    expect(first!.kind).toBe(api.SpanKind.CONSUMER)
    expect(second!.attributes).toMatchObject({
      "durable_tasks.outcome": "succeeded",
      "durable_tasks.status": "completed"
    })
    expect(second!.status.code).not.toBe(api.SpanStatusCode.ERROR)
    expect(parentIdOf(first!)).toBe(parentIdOf(second!))

    const [root] = runsOf(ids.tree)
    const leaves = tracing.named("durable-tasks.run").filter((s) =>
      s.attributes["durable_tasks.task_id"] === "leaf_facade"
    )
    expect(root!.attributes["durable_tasks.status"]).toBe("waiting_for_children_tasks")
    expect(leaves.map(parentIdOf)).toEqual([root!.spanContext().spanId, root!.spanContext().spanId])
    expect(leaves.map((s) => s.spanContext().traceId)).toEqual([
      root!.spanContext().traceId,
      root!.spanContext().traceId
    ])
  })

  it("without the option, the facade makes no spans", async () => {
    const before = tracing.spans().length
    const executor = new DurableExecutor(createInMemoryStorage(), { pollIntervalMs: 50 })
    const task = executor.task({ id: "untraced", timeoutMs: 1_000, run: () => 1 })
    await executor.start()
    try {
      await (await executor.enqueueTask(task)).waitAndGetExecution()
    } finally {
      await executor.shutdown()
    }
    expect(tracing.spans().length).toBe(before)
  })

  it("refuses a tracing option that is not a boolean", () => {
    expect(() => new DurableExecutor(createInMemoryStorage(), { tracing: "yes" as never })).toThrow(
      DurableExecutorOptionsError
    )
  })
})
