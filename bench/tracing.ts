/**
 * Tracing overhead (memory, facade): the `flat` workload with tracing off, on with a tracer provider
 * that drops its spans (no processor), and on with a batching processor into an in-memory exporter.
 * Each figure's detail has its overhead against tracing off.
 */
import * as api from "@opentelemetry/api"
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
  type SpanProcessor
} from "@opentelemetry/sdk-trace-base"
import type { DurableTask } from "../src/index.js"
import { engine } from "./engine.js"
import { defineTrivial, executorOptions, type Figure, measure, type Scenario, timed, waitAll } from "./scenarios.js"
import { nowMs } from "./stats.js"

type Mode = "off" | "no-op exporter" | "batching in-memory exporter"

const flatRate = async (
  ctx: Parameters<Scenario["run"]>[0],
  mode: Mode
): Promise<{ readonly rate: number; readonly detail: Record<string, unknown> }> => {
  const processors: Array<SpanProcessor> = []
  const exporter = new InMemorySpanExporter()
  if (mode === "batching in-memory exporter") processors.push(new BatchSpanProcessor(exporter))
  const provider = new BasicTracerProvider({ spanProcessors: processors })
  if (mode !== "off") api.trace.setGlobalTracerProvider(provider)
  const opened = await ctx.open()
  const executor = new engine.DurableExecutor(opened.storage, { ...executorOptions, tracing: mode !== "off" })
  const trivial: DurableTask<number, number> = defineTrivial(executor)
  try {
    await executor.start()
    const inputs = Array.from({ length: ctx.sizes.flat }, (_, i) => i)
    const result = await measure(ctx, () =>
      timed(ctx.sizes.flat, async () => {
        const t0 = nowMs()
        await waitAll(await executor.enqueueTasks(trivial, inputs))
        exporter.reset() // the in-memory exporter's spans would otherwise pile up over the runs
        return { wallMs: Number((nowMs() - t0).toFixed(1)) }
      }))
    return result
  } finally {
    await executor.shutdown()
    await opened.close()
    await provider.shutdown()
    api.trace.disable()
  }
}

/** The scenario: three figures, each with its overhead (in % of executions/s) against tracing off. */
export const tracing: Scenario["run"] = async (ctx) => {
  const modes: ReadonlyArray<Mode> = ["off", "no-op exporter", "batching in-memory exporter"]
  const figures: Array<Figure> = []
  let off = 0
  for (const mode of modes) {
    const { detail, rate } = await flatRate(ctx, mode)
    if (mode === "off") off = rate
    figures.push({
      backend: ctx.backend,
      scenario: `flat, tracing ${mode}`,
      metric: "executions/s",
      value: rate,
      unit: "/s",
      detail: { ...detail, overheadPercent: Number(((off / rate - 1) * 100).toFixed(1)) }
    })
  }
  return figures
}
