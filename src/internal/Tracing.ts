/**
 * Trace context as stored with an execution: a W3C `traceparent` (`00-<trace id>-<span id>-<flags>`),
 * made from the enqueue span and turned back into the parent of each run span, in whichever process
 * claims the execution. Also: whether a fiber traces at all (Effect's default tracer keeps its spans in
 * memory and exports nothing, so the engine makes no spans for it: no cost when tracing is off).
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as Option from "effect/Option"
import * as Tracer from "effect/Tracer"

/** Effect's default tracer (its spans go nowhere). */
const nativeTracer: Tracer.Tracer = Effect.runSync(Effect.tracer)

/**
 * The tracer the engine makes spans with in `fiber`, or undefined when tracing is off there
 * (disabled with `Effect.withTracerEnabled(false)`, or only Effect's default tracer).
 *
 * @since 0.1.0
 */
export const activeTracer = (fiber: Fiber.RuntimeFiber<any, any>): Tracer.Tracer | undefined => {
  if (!fiber.getFiberRef(FiberRef.currentTracerEnabled)) return undefined
  const tracer = fiber.currentTracer
  return tracer === nativeTracer ? undefined : tracer
}

/** {@link activeTracer} of the current fiber. @since 0.1.0 */
export const currentTracer: Effect.Effect<Tracer.Tracer | undefined> = Effect.withFiberRuntime((fiber) =>
  Effect.succeed(activeTracer(fiber))
)

/** The W3C `traceparent` of a span. @since 0.1.0 */
export const traceparentOf = (span: Tracer.AnySpan): string =>
  `00-${span.traceId}-${span.spanId}-${span.sampled ? "01" : "00"}`

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

/** The span a stored `traceparent` stands for; undefined for none or a malformed one. @since 0.1.0 */
export const parentOf = (traceContext: string | null): Tracer.ExternalSpan | undefined => {
  if (traceContext === null) return undefined
  const match = TRACEPARENT.exec(traceContext)
  if (match === null || /^0+$/.test(match[1]!) || /^0+$/.test(match[2]!)) return undefined
  return Tracer.externalSpan({
    traceId: match[1]!,
    spanId: match[2]!,
    sampled: (Number.parseInt(match[3]!, 16) & 1) === 1
  })
}

/** Span attribute names (OpenTelemetry style). @since 0.1.0 */
export const Attributes = {
  taskId: "durable_tasks.task_id",
  executionId: "durable_tasks.execution_id",
  attempt: "durable_tasks.attempt",
  executorId: "durable_tasks.executor_id",
  outcome: "durable_tasks.outcome",
  status: "durable_tasks.status",
  count: "durable_tasks.count"
} as const

/**
 * Starts a span now on `tracer` (the engine's own spans, made outside any fiber or for another
 * fiber's work): `parent` when given, else a root span.
 *
 * @since 0.1.0
 */
export const startSpan = (
  tracer: Tracer.Tracer,
  name: string,
  parent: Tracer.AnySpan | undefined,
  kind: Tracer.SpanKind,
  startTimeNanos: bigint,
  attributes: Record<string, unknown>,
  context: Context.Context<never>
): Tracer.Span => {
  const span = tracer.span(
    name,
    parent === undefined ? Option.none() : Option.some(parent),
    context,
    [],
    startTimeNanos,
    kind,
    // No parent: a root span (not a child of whatever OpenTelemetry context happens to be active).
    { root: parent === undefined }
  )
  for (const key in attributes) span.attribute(key, attributes[key])
  return span
}

/**
 * Spans made straight on a tracer outside Effect (the facade's OpenTelemetry tracer): one call each
 * to start, set an attribute and end, without an Effect span wrapping each of them (that wrapper cost
 * three times the OpenTelemetry SDK's own span per trivial execution). A span is an `AnySpan` (its
 * trace and span ids), so it is the parent of Effect spans and its `traceparent` can be stored.
 *
 * @since 0.1.0
 * @category models
 */
export interface DirectTracer {
  /** Starts a span now: a child of the stored `traceparent`, or a root span when there is none. */
  readonly start: (
    name: string,
    kind: "consumer" | "producer",
    traceContext: string | null,
    attributes: Readonly<Record<string, string | number>>,
    startTimeNanos: bigint
  ) => Tracer.AnySpan
  /** Sets an attribute of a span `start` made. */
  readonly attribute: (span: Tracer.AnySpan, key: string, value: string | number) => void
  /** Ends a span `start` made: status ERROR with `errorMessage` when given, else unset. */
  readonly end: (span: Tracer.AnySpan, endTimeNanos: bigint, errorMessage: string | undefined) => void
}

/**
 * Runs plain (fiber-less) task code with a span as its active context, for tracers whose context lives
 * outside Effect (the facade's OpenTelemetry): without it, plain tasks run in a fiber when tracing.
 * `direct`, when given, makes the engine's run spans without Effect's tracer.
 *
 * @since 0.1.0
 * @category tags
 */
export class PlainSpanContext extends Context.Tag("durable-tasks/PlainSpanContext")<
  PlainSpanContext,
  {
    readonly within: <X>(span: Tracer.AnySpan, f: () => X) => X
    readonly direct?: DirectTracer | undefined
  }
>() {}
