/**
 * The `durable-tasks.run` span of one attempt, in the executor that claimed it. Its parent is the
 * execution's stored trace context (the enqueue span, or for a child the parent's run span), so a
 * whole tree is one trace however many processes ran it. A child, not a link: a link would start a
 * new trace per attempt, and one trace per tree is what a trace view needs to show the tree.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import type * as Tracer from "effect/Tracer"
import type { ExecutionRow } from "../../ExecutionRow.js"
import * as Planner from "../../Planner.js"
import { Attributes, type DirectTracer, parentOf, startSpan, traceparentOf } from "../Tracing.js"

/** The run span's name. @since 0.1.0 */
export const NAME = "durable-tasks.run"

/** An attempt's outcome as its runner reports it. @since 0.1.0 */
export type Outcome = "succeeded" | "failed" | "timed_out" | "interrupted"

/** The outcome an event records (undefined: interrupted, nothing recorded). @since 0.1.0 */
export const outcomeOf = (event: Planner.Event | undefined): Outcome =>
  event === undefined
    ? "interrupted"
    : event._tag === "RunSucceeded"
    ? "succeeded"
    : event._tag === "RunFailed" && event.timedOut
    ? "timed_out"
    : "failed"

/** @since 0.1.0 @category models */
export interface RunSpans {
  /** Starts the span of `row`'s attempt (claimed now). */
  readonly start: (row: ExecutionRow, nowNanos: bigint) => Tracer.AnySpan
  /**
   * Ends it with the attempt's outcome and the status its write moves the row to; a success's
   * children get the run span as their trace context.
   */
  readonly end: (span: Tracer.AnySpan, row: ExecutionRow, event: Planner.Event | undefined, nowNanos: bigint) => void
  /** The event with the run span as its children's trace context. */
  readonly withChildrenTrace: (span: Tracer.AnySpan, event: Planner.Event) => Planner.Event
}

/** The status the event's write moves `row` to; undefined when it moves nothing. */
const statusAfter = (row: ExecutionRow, event: Planner.Event): string | undefined => {
  const planned = Planner.transition(row, event)
  return planned._tag === "Step" && planned.row !== undefined ? planned.row.status : undefined
}

const withChildrenTrace: RunSpans["withChildrenTrace"] = (span, event) => {
  if (event._tag !== "RunSucceeded" || event.children.length === 0) return event
  const traceContext = traceparentOf(span)
  return { ...event, children: event.children.map((c) => ({ ...c, traceContext })) }
}

/** Run spans on an Effect tracer. @since 0.1.0 @category constructors */
export const make = (tracer: Tracer.Tracer, executorId: string): RunSpans => ({
  start: (row, nowNanos) =>
    startSpan(tracer, NAME, parentOf(row.traceContext), "consumer", nowNanos, {
      [Attributes.taskId]: row.taskId,
      [Attributes.executionId]: row.executionId,
      [Attributes.attempt]: row.retryAttempts,
      [Attributes.executorId]: executorId
    }, Context.empty()),
  end: (any, row, event, nowNanos) => {
    const span = any as Tracer.Span
    span.attribute(Attributes.outcome, outcomeOf(event))
    const status = event === undefined ? undefined : statusAfter(row, event)
    if (status !== undefined) span.attribute(Attributes.status, status)
    span.end(
      nowNanos,
      event?._tag === "RunFailed"
        ? Exit.fail(new RunError(event.error.message))
        : event === undefined
        ? Exit.interrupt(FiberId.none)
        : Exit.void
    )
  },
  withChildrenTrace
})

/**
 * Run spans made straight on a tracer outside Effect (the facade's OpenTelemetry), each a child of the
 * stored `traceparent` as such (not parsed into an Effect span first).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeDirect = (tracer: DirectTracer, executorId: string): RunSpans => ({
  start: (row, nowNanos) =>
    tracer.start(NAME, "consumer", row.traceContext, {
      [Attributes.taskId]: row.taskId,
      [Attributes.executionId]: row.executionId,
      [Attributes.attempt]: row.retryAttempts,
      [Attributes.executorId]: executorId
    }, nowNanos),
  end: (span, row, event, nowNanos) => {
    tracer.attribute(span, Attributes.outcome, outcomeOf(event))
    const status = event === undefined ? undefined : statusAfter(row, event)
    if (status !== undefined) tracer.attribute(span, Attributes.status, status)
    tracer.end(span, nowNanos, event?._tag === "RunFailed" ? event.error.message : undefined)
  },
  withChildrenTrace
})

/** The failure a failed attempt's span ends with (its message is the stored error's). @since 0.1.0 */
export class RunError extends Error {
  override readonly name = "DurableTaskRunError"
}
