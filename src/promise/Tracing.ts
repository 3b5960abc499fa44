/**
 * The facade's `tracing: true`: the engine's spans go to the app's global OpenTelemetry tracer
 * provider (`@opentelemetry/api`'s, set by the app's SDK), through the tracers of `OtelTracer.ts` (not
 * `@effect/opentelemetry`'s: see there). `@opentelemetry/api` is an optional peer dependency, loaded
 * only when tracing is asked for. The caller's active OpenTelemetry span becomes the parent of each
 * enqueue span.
 *
 * @since 0.1.0
 */
import type * as OtelApi from "@opentelemetry/api"
import * as Layer from "effect/Layer"
import * as Tracer from "effect/Tracer"
import { createRequire } from "node:module"
import { PlainSpanContext } from "../internal/Tracing.js"
import { DurableExecutorOptionsError } from "./errors.js"
import * as OtelTracer from "./OtelTracer.js"

const PACKAGES = ["@opentelemetry/api"] as const

/** The OpenTelemetry API, once loaded (the same module instance the app's SDK registered with). */
let otelApi: typeof OtelApi | undefined

/**
 * The layer that sends the engine's spans to the global tracer provider; nothing when `tracing` is
 * not true. Throws `DurableExecutorOptionsError` when a package it needs is not installed.
 *
 * @since 0.1.0
 */
export const layer = (tracing: unknown, serviceName = "durable-tasks"): Layer.Layer<never> => {
  if (tracing === undefined || tracing === false) return Layer.empty
  if (tracing !== true) {
    throw new DurableExecutorOptionsError(`invalid executor options: tracing must be a boolean, got ${typeof tracing}`)
  }
  const require = createRequire(import.meta.url)
  for (const name of PACKAGES) {
    try {
      require.resolve(name)
    } catch {
      throw new DurableExecutorOptionsError(
        `invalid executor options: tracing: true needs the package ${name} (npm install ${PACKAGES.join(" ")})`
      )
    }
  }
  // Loaded now, to read callers' active spans from the first enqueue on: its state (the tracer
  // provider, the context manager) is global, shared with the app's ESM or CommonJS copy.
  otelApi = require("@opentelemetry/api") as typeof OtelApi
  const { direct, tracer } = OtelTracer.make(otelApi, serviceName)
  return Layer.merge(Layer.setTracer(tracer), Layer.succeed(PlainSpanContext, { within, direct }))
}

/** Calls `f` with `span` as the active OpenTelemetry span (the parent of the task's own spans). */
const within = <X>(span: Tracer.AnySpan, f: () => X): X => OtelTracer.within(otelApi!, span, f)

/**
 * The caller's active OpenTelemetry span, as an Effect span (the parent of its enqueue span), when
 * tracing; undefined otherwise.
 *
 * @since 0.1.0
 */
export const callerSpan = (): Tracer.ExternalSpan | undefined => {
  if (otelApi === undefined) return undefined
  const context = otelApi.trace.getActiveSpan()?.spanContext()
  if (context === undefined || !otelApi.isSpanContextValid(context)) return undefined
  return Tracer.externalSpan({
    traceId: context.traceId,
    spanId: context.spanId,
    sampled: (context.traceFlags & otelApi.TraceFlags.SAMPLED) === otelApi.TraceFlags.SAMPLED
  })
}
