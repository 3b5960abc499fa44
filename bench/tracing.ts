/**
 * Tracing overhead (memory, facade): the `flat` workload with tracing off, on with a tracer provider
 * whose spans go nowhere (no-op exporter), and on with a batching processor into an in-memory
 * exporter. The three modes run in turns, round after round (a busy machine slows them alike), and
 * each figure's detail has its overhead against tracing off, in executions/s and in CPU per execution.
 */
import type { Context } from "@opentelemetry/api"
import * as api from "@opentelemetry/api"
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
  type ReadableSpan,
  type Span,
  type SpanProcessor
} from "@opentelemetry/sdk-trace-base"
import type { DurableExecutor, DurableTask } from "../src/index.js"
import { engine } from "./engine.js"
import { defineTrivial, executorOptions, type Figure, type Scenario, timed, waitAll } from "./scenarios.js"
import { nowMs, percentile } from "./stats.js"

const MODES = ["off", "no-op exporter", "batching in-memory exporter"] as const
type Mode = (typeof MODES)[number]

/** Forwards spans to the batching processor only while batching is on. */
class SwitchProcessor implements SpanProcessor {
  target: SpanProcessor | undefined = undefined
  onStart(span: Span, context: Context): void {
    this.target?.onStart(span, context)
  }
  onEnd(span: ReadableSpan): void {
    this.target?.onEnd(span)
  }
  forceFlush(): Promise<void> {
    return this.target?.forceFlush() ?? Promise.resolve()
  }
  shutdown(): Promise<void> {
    return this.target?.shutdown() ?? Promise.resolve()
  }
}

/** The scenario: three figures, each with its overhead against tracing off. */
export const tracing: Scenario["run"] = async (ctx) => {
  const exporter = new InMemorySpanExporter()
  const batching = new BatchSpanProcessor(exporter)
  const switcher = new SwitchProcessor()
  const provider = new BasicTracerProvider({ spanProcessors: [switcher] })
  api.trace.setGlobalTracerProvider(provider)
  const opened = await Promise.all([ctx.open(), ctx.open()])
  const executors: Record<"off" | "on", DurableExecutor> = {
    off: new engine.DurableExecutor(opened[0].storage, executorOptions),
    on: new engine.DurableExecutor(opened[1].storage, { ...executorOptions, tracing: true })
  }
  const tasks: Record<"off" | "on", DurableTask<number, number>> = {
    off: defineTrivial(executors.off),
    on: defineTrivial(executors.on)
  }
  const inputs = Array.from({ length: ctx.sizes.flat }, (_, i) => i)
  const runOnce = async (mode: Mode) => {
    const which = mode === "off" ? "off" : "on"
    switcher.target = mode === "batching in-memory exporter" ? batching : undefined
    const run = await timed(
      ctx.sizes.flat,
      async () => void (await waitAll(await executors[which].enqueueTasks(tasks[which], inputs)))
    )
    await batching.forceFlush()
    exporter.reset() // exported spans would otherwise pile up over the rounds
    return { rate: ctx.sizes.flat / (run.wallMs / 1000), cpuUs: run.cpuUsPerExecution }
  }
  try {
    await Promise.all([executors.off.start(), executors.on.start()])
    const samples = new Map<Mode, Array<{ rate: number; cpuUs: number }>>(MODES.map((m) => [m, []]))
    const warmupStart = nowMs()
    do {
      for (const mode of MODES) await runOnce(mode)
    } while (nowMs() - warmupStart < ctx.sizes.warmupMs)
    const rounds = Math.max(3, ctx.sizes.runs * 2)
    for (let i = 0; i < rounds; i++) for (const mode of MODES) samples.get(mode)!.push(await runOnce(mode))
    const medians = new Map(MODES.map((m) => {
      const s = samples.get(m)!
      return [m, { rate: percentile(s.map((x) => x.rate), 50), cpuUs: percentile(s.map((x) => x.cpuUs), 50) }]
    }))
    const off = medians.get("off")!
    return MODES.map((mode): Figure => {
      const { cpuUs, rate } = medians.get(mode)!
      return {
        backend: ctx.backend,
        scenario: `flat, tracing ${mode}`,
        metric: "executions/s",
        value: rate,
        unit: "/s",
        detail: {
          executions: ctx.sizes.flat,
          rounds,
          cpuUsPerExecution: Number(cpuUs.toFixed(1)),
          overheadPercentRate: Number(((off.rate / rate - 1) * 100).toFixed(1)),
          overheadPercentCpu: Number(((cpuUs / off.cpuUs - 1) * 100).toFixed(1))
        }
      }
    })
  } finally {
    await Promise.all([executors.off.shutdown(), executors.on.shutdown()])
    await Promise.all(opened.map((o) => o.close()))
    await provider.shutdown()
    api.trace.disable()
  }
}
