/**
 * Storage calls and tracing: with a tracer, `@effect/sql` makes a span per statement and per
 * transaction (`sql.execute`, `sql.transaction`), a root span for each poll of the engine's loops
 * and a few per execution on the hot path. The engine keeps them out of traces unless the
 * `traceStorage` setting asks for them (a debug option): then each storage call is a
 * `durable-tasks.storage.<method>` span with the SQL spans under it. Without a tracer, nothing is
 * wrapped (tracing off costs nothing here).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"

/** The storage span's name prefix. @since 0.1.0 */
export const PREFIX = "durable-tasks.storage."

/**
 * `storage` (the `TaskStorage` or `ScheduleStorage` service) whose calls run with the tracer disabled
 * (`traced` false) or each in a span of its own (`traced` true).
 *
 * @since 0.1.0
 */
export const decorate = <S extends object>(storage: S, traced: boolean): S => {
  const out: Record<string, unknown> = {}
  for (const [name, method] of Object.entries(storage)) {
    if (typeof method !== "function") {
      out[name] = method
      continue
    }
    const call = method as (...args: ReadonlyArray<unknown>) => Effect.Effect<unknown, unknown>
    const spanName = PREFIX + name
    out[name] = traced
      ? (...args: ReadonlyArray<unknown>) => Effect.withSpan(call(...args), spanName)
      : (...args: ReadonlyArray<unknown>) => Effect.withTracerEnabled(call(...args), false)
  }
  return out as S
}
