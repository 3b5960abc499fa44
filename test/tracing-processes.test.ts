/**
 * One trace across two OS processes on Postgres: this process enqueues a task tree under its own
 * span (its own tracer provider, in-memory exporter) and shuts its executor down; a second process
 * (test/tracing/pg-consumer.ts, its own provider and exporter) runs the tree and prints its spans.
 * Every span of both shares the caller's trace id; the root's and the finalize task's run spans are
 * children of the stored enqueue span, the children's run spans children of the root's run span.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { spawn } from "node:child_process"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import * as DurableExecutor from "../src/DurableExecutor.js"
import * as PgStorage from "../src/PgStorage.js"
import { makeTracing, parentIdOf } from "./support/otel.js"
import { databaseUrl, schemasDroppedAfterAll } from "./support/sql.js"
import { tree } from "./tracing/tree.js"

const newSchema = schemasDroppedAfterAll()

interface PrintedSpan {
  readonly name: string
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | null
  readonly attributes: Record<string, unknown>
}

/** Runs the consumer process; resolves with its printed report, or rejects with its output. */
const runConsumer = (env: Record<string, string>) =>
  new Promise<{ readonly status: string; readonly spans: ReadonlyArray<PrintedSpan> }>((resolve, reject) => {
    const script = path.resolve(import.meta.dirname, "tracing/pg-consumer.ts")
    const child = spawn(process.execPath, ["--import", "tsx", script], {
      cwd: path.resolve(import.meta.dirname, ".."),
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    let err = ""
    child.stdout.on("data", (d) => (out += String(d)))
    child.stderr.on("data", (d) => (err += String(d)))
    const timer = setTimeout(() => child.kill("SIGKILL"), 50_000)
    child.on("exit", (code) => {
      clearTimeout(timer)
      const last = out.trim().split("\n").at(-1) ?? ""
      if (code !== 0 || !last.startsWith("{")) return reject(new Error(`consumer exited ${code}:\n${out}\n${err}`))
      resolve(JSON.parse(last))
    })
  })

describe("across OS processes on Postgres", () => {
  it("an enqueue under a span here and the tree's runs in another process are one trace", async () => {
    const schema = newSchema("trace_proc")
    const producer = makeTracing("producer")
    const storage = PgStorage.layer({ connectionString: databaseUrl(), schema })
    // This process only enqueues (the root is due after its executor shut down), so the other runs it all.
    const executionId = await Effect.runPromise(
      Effect.gen(function*() {
        const executor = yield* DurableExecutor.DurableExecutor
        return yield* executor.enqueue(tree, 3, { sleepMsBeforeRun: 1_000 }).pipe(Effect.withSpan("request"))
      }).pipe(
        Effect.provide(
          DurableExecutor.layer({ pollIntervalMs: 50 }).pipe(Layer.provide(storage), Layer.provide(producer.layer))
        )
      )
    )
    const [request] = producer.named("request")
    const [enqueue] = producer.named("durable-tasks.enqueue")
    expect(parentIdOf(enqueue!)).toBe(request!.spanContext().spanId)
    expect(producer.named("durable-tasks.run")).toHaveLength(0)

    const report = await runConsumer({
      DATABASE_URL: databaseUrl(),
      TRACE_PG_SCHEMA: schema,
      TRACE_EXECUTION_ID: executionId
    })
    expect(report.status).toBe("completed")
    const runs = report.spans.filter((s) => s.name === "durable-tasks.run")
    const runOf = (taskId: string) => runs.filter((s) => s.attributes["durable_tasks.task_id"] === taskId)
    expect(runs).toHaveLength(4)
    const traceId = request!.spanContext().traceId
    // Only the engine's spans: storage calls make none without `traceStorage`.
    expect([...new Set(report.spans.map((s) => s.name))]).toEqual(["durable-tasks.run"])
    expect(report.spans.map((s) => s.traceId)).toEqual(report.spans.map(() => traceId))
    const [root] = runOf("tree")
    expect(root!.attributes["durable_tasks.execution_id"]).toBe(executionId)
    expect(root!.parentSpanId).toBe(enqueue!.spanContext().spanId)
    expect(runOf("leaf").map((s) => s.parentSpanId)).toEqual([root!.spanId, root!.spanId])
    expect(runOf("tree_sum").map((s) => s.parentSpanId)).toEqual([enqueue!.spanContext().spanId])
  })
})
