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
