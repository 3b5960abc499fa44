/**
 * OpenTelemetry for tests: a tracer provider per "process" with an in-memory exporter, as the layer
 * an Effect app provides (`@effect/opentelemetry`), and a small synchronous context manager for the
 * facade's tests (the active span of `startActiveSpan`'s callback).
 */
import * as OtelResource from "@effect/opentelemetry/Resource"
import * as OtelTracer from "@effect/opentelemetry/Tracer"
import * as api from "@opentelemetry/api"
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor
} from "@opentelemetry/sdk-trace-base"
import * as Layer from "effect/Layer"

/** One process's tracing: its provider, its exported spans, and the layer that sends Effect spans to it. */
export const makeTracing = (serviceName = "test") => {
  const exporter = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  const layer: Layer.Layer<never> = OtelTracer.layer.pipe(
    Layer.provide(Layer.succeed(OtelTracer.OtelTracerProvider, provider)),
    Layer.provide(OtelResource.layer({ serviceName }))
  )
  return {
    provider,
    layer,
    spans: (): ReadonlyArray<ReadableSpan> => exporter.getFinishedSpans(),
    named: (name: string): ReadonlyArray<ReadableSpan> => exporter.getFinishedSpans().filter((s) => s.name === name)
  }
}

/** The parent span id of an exported span (sdk 2.x: `parentSpanContext`). */
export const parentIdOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId

/** A context manager that keeps the active context for synchronous callbacks (enough for the tests). */
export class StackContextManager implements api.ContextManager {
  private stack: Array<api.Context> = []
  active(): api.Context {
    return this.stack[this.stack.length - 1] ?? api.ROOT_CONTEXT
  }
  with<A extends Array<unknown>, F extends (...args: A) => ReturnType<F>>(
    context: api.Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    this.stack.push(context)
    try {
      return fn.call(thisArg, ...args)
    } finally {
      this.stack.pop()
    }
  }
  bind<T>(_context: api.Context, target: T): T {
    return target
  }
  enable(): this {
    return this
  }
  disable(): this {
    this.stack = []
    return this
  }
}
