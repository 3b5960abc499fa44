/**
 * The facade's tracers straight on `@opentelemetry/api` (the app's global tracer provider): an
 * Effect `Tracer` (the enqueue spans, spans of tasks run in fibers, and the OpenTelemetry context of
 * fibers that have a current span) and a {@link DirectTracer} for the run spans. Measured against
 * `@effect/opentelemetry`'s tracer, whose span keeps an attribute map and options beside the SDK's
 * span and whose context hook allocates on every fiber step, even fibers without a span: see the
 * README's Observability "Cost".
 *
 * @since 0.1.0
 */
import type * as OtelApi from "@opentelemetry/api"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import type * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Tracer from "effect/Tracer"
import { type DirectTracer, parentOf } from "../internal/Tracing.js"

const KINDS: Record<Tracer.SpanKind, number> = { internal: 0, server: 1, client: 2, producer: 3, consumer: 4 }
const NO_ATTRIBUTES: ReadonlyMap<string, unknown> = new Map()

const msOf = (nanos: bigint) => Number(nanos) / 1_000_000

const attributeValue = (value: unknown): OtelApi.AttributeValue => {
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value
  if (typeof value === "bigint") return value.toString()
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value as Array<string>
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

/** An OpenTelemetry span as an Effect external span: the run spans, and the parent of the task's own spans. */
class DirectSpan implements Tracer.ExternalSpan {
  readonly _tag = "ExternalSpan"
  readonly context = Context.empty()
  readonly spanId: string
  readonly traceId: string
  readonly sampled: boolean
  constructor(readonly otel: OtelApi.Span) {
    const context = otel.spanContext()
    this.spanId = context.spanId
    this.traceId = context.traceId
    this.sampled = (context.traceFlags & 1) === 1
  }
}

/** An OpenTelemetry span as an Effect span. */
class EffectSpan implements Tracer.Span {
  readonly _tag = "Span"
  readonly spanId: string
  readonly traceId: string
  readonly sampled: boolean
  status: Tracer.SpanStatus
  private attributeMap: Map<string, unknown> | undefined = undefined
  constructor(
    private readonly api: typeof OtelApi,
    readonly otel: OtelApi.Span,
    readonly name: string,
    readonly parent: Option.Option<Tracer.AnySpan>,
    readonly context: Context.Context<never>,
    readonly links: Array<Tracer.SpanLink>,
    readonly kind: Tracer.SpanKind,
    startTime: bigint
  ) {
    const spanContext = otel.spanContext()
    this.spanId = spanContext.spanId
    this.traceId = spanContext.traceId
    this.sampled = (spanContext.traceFlags & 1) === 1
    this.status = { _tag: "Started", startTime }
  }
  get attributes(): ReadonlyMap<string, unknown> {
    return this.attributeMap ?? NO_ATTRIBUTES
  }
  attribute(key: string, value: unknown): void {
    this.otel.setAttribute(key, attributeValue(value))
    ;(this.attributeMap ??= new Map()).set(key, value)
  }
  event(name: string, startTime: bigint, attributes?: Record<string, unknown>): void {
    const values: OtelApi.Attributes = {}
    for (const key in attributes) values[key] = attributeValue(attributes[key])
    this.otel.addEvent(name, values, msOf(startTime))
  }
  addLinks(links: ReadonlyArray<Tracer.SpanLink>): void {
    this.links.push(...links)
    this.otel.addLinks(links.map((link) => ({ context: spanContextOf(link.span) })))
  }
  end(endTime: bigint, exit: Exit.Exit<unknown, unknown>): void {
    if (this.status._tag === "Started") this.status = { _tag: "Ended", startTime: this.status.startTime, endTime, exit }
    if (exit._tag === "Failure" && !Cause.isInterruptedOnly(exit.cause)) {
      const error = Cause.prettyErrors(exit.cause)[0]
      if (error !== undefined) {
        this.otel.recordException(error, msOf(endTime))
        this.otel.setStatus({ code: this.api.SpanStatusCode.ERROR, message: error.message })
      }
    } else if (exit._tag === "Failure") {
      this.otel.setAttribute("status.interrupted", true)
    }
    this.otel.end(msOf(endTime))
  }
}

const spanContextOf = (span: Tracer.AnySpan): OtelApi.SpanContext =>
  span instanceof EffectSpan || span instanceof DirectSpan
    ? span.otel.spanContext()
    : { traceId: span.traceId, spanId: span.spanId, traceFlags: span.sampled ? 1 : 0, isRemote: true }

/** The OpenTelemetry context with `span` active, from `base`. */
const withSpan = (api: typeof OtelApi, base: OtelApi.Context, span: Tracer.AnySpan): OtelApi.Context =>
  span instanceof EffectSpan || span instanceof DirectSpan
    ? api.trace.setSpan(base, span.otel)
    : api.trace.setSpanContext(base, spanContextOf(span))

/**
 * The Effect tracer and the direct run-span tracer on the global tracer provider's tracer named
 * `serviceName`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  api: typeof OtelApi,
  serviceName: string
): { readonly tracer: Tracer.Tracer; readonly direct: DirectTracer } => {
  const otelTracer = api.trace.getTracer(serviceName)
  const tracer = Tracer.make({
    span: (name, parent, context, links, startTime, kind, options) => {
      const otelContext = Option.isSome(parent)
        ? withSpan(api, api.context.active(), parent.value)
        : options?.root === true
        ? api.trace.deleteSpan(api.context.active())
        : api.context.active()
      const otel = otelTracer.startSpan(name, {
        kind: KINDS[kind],
        startTime: msOf(startTime),
        ...(links.length > 0 ? { links: links.map((link) => ({ context: spanContextOf(link.span) })) } : {})
      }, otelContext)
      return new EffectSpan(api, otel, name, parent, context, links.slice(), kind, startTime)
    },
    context: (f, fiber) => {
      const span = fiber.currentSpan
      if (span === undefined) return f()
      return api.context.with(withSpan(api, api.context.active(), span), f)
    }
  })

  // The parent context of the last stored traceparent: a batch's executions share one, parsed once.
  let lastTraceContext: string | null = null
  let lastContext: OtelApi.Context = api.ROOT_CONTEXT
  const contextOf = (traceContext: string | null): OtelApi.Context => {
    if (traceContext === lastTraceContext) return lastContext
    const parent = parentOf(traceContext)
    lastTraceContext = traceContext
    lastContext = parent === undefined ? api.ROOT_CONTEXT : withSpan(api, api.ROOT_CONTEXT, parent)
    return lastContext
  }
  const direct: DirectTracer = {
    start: (name, kind, traceContext, attributes, startTimeNanos) =>
      new DirectSpan(
        otelTracer.startSpan(
          name,
          { kind: KINDS[kind], attributes, startTime: msOf(startTimeNanos) },
          contextOf(traceContext)
        )
      ),
    attribute: (span, key, value) => void (span as DirectSpan).otel.setAttribute(key, value),
    end: (span, endTimeNanos, errorMessage) => {
      const otel = (span as DirectSpan).otel
      if (errorMessage !== undefined) otel.setStatus({ code: api.SpanStatusCode.ERROR, message: errorMessage })
      otel.end(msOf(endTimeNanos))
    }
  }
  return { tracer, direct }
}

/**
 * Calls `f` with `span` as the active OpenTelemetry span (the parent of the task's own spans).
 *
 * @since 0.1.0
 */
export const within = <X>(api: typeof OtelApi, span: Tracer.AnySpan, f: () => X): X =>
  api.context.with(withSpan(api, api.context.active(), span), f)
