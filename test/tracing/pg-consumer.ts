/**
 * The consuming process of test/tracing-processes.test.ts: an executor on Postgres (`DATABASE_URL`,
 * schema `TRACE_PG_SCHEMA`) with its own tracer provider and in-memory exporter runs the tree
 * `TRACE_EXECUTION_ID`, shuts down, and prints its finished spans as one JSON line.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as DurableExecutor from "../../src/DurableExecutor.js"
import * as PgStorage from "../../src/PgStorage.js"
import { makeTracing } from "../support/otel.js"
import { tree } from "./tree.js"

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined) throw new Error(`${name} is not set`)
  return value
}

const tracing = makeTracing("consumer")
const storage = PgStorage.layer({ connectionString: env("DATABASE_URL"), schema: env("TRACE_PG_SCHEMA") })
const layer = DurableExecutor.layer({ tasks: [tree], pollIntervalMs: 50 }).pipe(
  Layer.provide(storage),
  Layer.provide(tracing.layer)
)
let started = 0
const done = await Effect.runPromise(
  Effect.gen(function*() {
    const executor = yield* DurableExecutor.DurableExecutor
    started = tracing.spans().length // the client's and the migrations' start-up spans are left out
    return yield* executor.wait(env("TRACE_EXECUTION_ID"), { pollIntervalMs: 20 })
  }).pipe(Effect.provide(layer))
)
// The executor has shut down: every attempt's span has ended and been exported.
const spans = tracing.spans().slice(started).map((s) => ({
  name: s.name,
  traceId: s.spanContext().traceId,
  spanId: s.spanContext().spanId,
  parentSpanId: s.parentSpanContext?.spanId ?? null,
  attributes: s.attributes
}))
process.stdout.write(JSON.stringify({ status: done.status, spans }) + "\n")
