/**
 * The `durable-tasks.enqueue` span: made in the caller's fiber, a child of its current span, and
 * stored with the new executions as their trace context. Nothing is made when tracing is off.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Tracer from "effect/Tracer"
import { activeTracer, Attributes, traceparentOf } from "./Tracing.js"

/** The enqueue span's name. @since 0.1.0 */
export const NAME = "durable-tasks.enqueue"

/**
 * Runs `body` with the trace context to store: null when tracing is off, else the `traceparent` of a
 * `durable-tasks.enqueue` span around it (a child of the caller's current span).
 *
 * @since 0.1.0
 */
export const traced = <A, E, R>(
  taskId: string,
  body: (traceContext: string | null) => Effect.Effect<A, E, R>,
  attributesOf: (a: A) => Record<string, unknown>
): Effect.Effect<A, E, R> =>
  Effect.withFiberRuntime((fiber) => {
    if (activeTracer(fiber) === undefined) return body(null)
    return Effect.useSpan(NAME, { kind: "producer", attributes: { [Attributes.taskId]: taskId } }, (span) =>
      Effect.tap(Effect.withParentSpan(body(traceparentOf(span)), span), (a) => {
        const attributes = attributesOf(a)
        for (const key in attributes) {
          span.attribute(key, attributes[key])
        }
      }))
  })

/**
 * Spans for a batch of enqueues, one per item (each item may come from another caller, with its own
 * parent span): undefined when tracing is off.
 *
 * @since 0.1.0
 */
export const makeMany = (
  items: ReadonlyArray<{ readonly taskId: string; readonly parentSpan?: Tracer.AnySpan | undefined }>
): Effect.Effect<ReadonlyArray<Tracer.Span> | undefined> =>
  Effect.withFiberRuntime((fiber) => {
    if (activeTracer(fiber) === undefined) return Effect.succeed(undefined)
    return Effect.forEach(items, (item) =>
      Effect.makeSpan(NAME, {
        kind: "producer",
        parent: item.parentSpan,
        attributes: { [Attributes.taskId]: item.taskId }
      }))
  })

/** Ends a batch's spans; `executionIds[i]` is item i's new execution, undefined when it failed. @since 0.1.0 */
export const endMany = (
  spans: ReadonlyArray<Tracer.Span>,
  executionIds: ReadonlyArray<string | undefined>,
  errorOf: (i: number) => unknown
): Effect.Effect<void> =>
  Effect.map(Clock.currentTimeNanos, (nowNanos) => {
    for (let i = 0; i < spans.length; i++) {
      const span = spans[i]!
      const executionId = executionIds[i]
      if (executionId !== undefined) span.attribute(Attributes.executionId, executionId)
      span.end(nowNanos, executionId !== undefined ? Exit.void : Exit.fail(errorOf(i)))
    }
  })
