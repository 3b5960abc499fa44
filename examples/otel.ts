/**
 * Observability: the engine's spans (and the task's own) exported to an OTLP endpoint
 * (OTEL_EXPORTER_OTLP_ENDPOINT, default http://localhost:4318), e.g. a local Jaeger:
 * `docker run -p 16686:16686 -p 4318:4318 jaegertracing/all-in-one`, then `npx tsx examples/otel.ts`.
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http"
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace-base"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { DurableExecutor, Task } from "../src/effect.js"

const double = Task.make({
  id: "double",
  timeoutMs: 1_000,
  run: (n: number) => Effect.succeed(n * 2).pipe(Effect.withSpan("double.work"))
})
const sumOfDoubles = Task.parent({
  id: "sumOfDoubles",
  timeoutMs: 1_000,
  runParent: (ns: ReadonlyArray<number>) =>
    Effect.succeed({ output: ns.length, children: ns.map((n) => Task.child(double, n)) })
})

const Tracing = NodeSdk.layer(() => ({
  resource: { serviceName: "durable-tasks-example" },
  spanProcessor: new BatchSpanProcessor(new OTLPTraceExporter())
}))
// The tracer layer is provided to the executor layer, so its runs are traced too.
const Executor = DurableExecutor.layerMemory({ tasks: [sumOfDoubles] }).pipe(Layer.provide(Tracing))

const program = Effect.gen(function*() {
  const executor = yield* DurableExecutor.DurableExecutor
  const id = yield* executor.enqueue(sumOfDoubles, [1, 2, 3])
  const done = yield* executor.wait(id)
  yield* Effect.log(`sumOfDoubles: ${done.status}`)
}).pipe(Effect.withSpan("request"))

await Effect.runPromise(program.pipe(Effect.provide(Executor)))
