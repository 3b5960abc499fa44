/**
 * Storage spans are a debug option: with a tracer, storage calls (and the SQL driver's own
 * `sql.execute` / `sql.transaction` spans) make no spans by default; with `traceStorage: true`
 * each storage call is a `durable-tasks.storage.<method>` span, the SQL spans under it.
 */
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import * as DurableExecutor from "../src/DurableExecutor.js"
import * as SqliteStorage from "../src/SqliteStorage.js"
import * as Task from "../src/Task.js"
import { makeTracing, parentIdOf } from "./support/otel.js"
import { tempDir } from "./support/sql.js"

const work = Task.make({ id: "work", timeoutMs: 1_000, run: (n: number) => Effect.succeed(n + 1) })

/**
 * Enqueues and waits for one execution on a SQLite file; returns the spans exported once the
 * executor started (the SQL client's and the migrations' own, at start-up, are not the hot path).
 */
const runOnce = async (traceStorage: boolean | undefined) => {
  const tmp = tempDir()
  try {
    const tracing = makeTracing()
    let started = 0
    const layer = DurableExecutor.layer({
      tasks: [work],
      pollIntervalMs: 50,
      ...(traceStorage === undefined ? {} : { traceStorage })
    }).pipe(
      Layer.provide(SqliteStorage.layer({ filename: path.join(tmp.dir, "spans.db") })),
      Layer.provide(tracing.layer)
    )
    const done = await Effect.runPromise(
      Effect.gen(function*() {
        const executor = yield* DurableExecutor.DurableExecutor
        started = tracing.spans().length
        const id = yield* executor.enqueue(work, 1).pipe(Effect.withSpan("request"))
        return yield* executor.wait(id, { pollIntervalMs: 20 })
      }).pipe(Effect.provide(layer))
    )
    expect(done.output).toBe(2)
    return tracing.spans().slice(started)
  } finally {
    tmp.remove()
  }
}

const names = (spans: ReadonlyArray<ReadableSpan>) => new Set(spans.map((s) => s.name))

describe("storage spans", () => {
  it("are not made by default: only the engine's and the caller's spans", async () => {
    const spans = await runOnce(undefined)
    expect(names(spans)).toEqual(new Set(["request", "durable-tasks.enqueue", "durable-tasks.run"]))
  })

  it("traceStorage: true makes a span per storage call, the SQL driver's spans under them", async () => {
    const spans = await runOnce(true)
    const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]))
    const [enqueue] = spans.filter((s) => s.name === "durable-tasks.enqueue")
    const inserts = spans.filter((s) => s.name === "durable-tasks.storage.insert")
    expect(inserts.map(parentIdOf)).toContain(enqueue!.spanContext().spanId)
    expect(spans.some((s) => s.name === "durable-tasks.storage.claim")).toBe(true)
    expect(spans.some((s) => s.name === "durable-tasks.storage.apply")).toBe(true)
    const sql = spans.filter((s) => s.name.startsWith("sql."))
    expect(sql.length).toBeGreaterThan(0)
    // Each SQL span has a storage call among its ancestors.
    for (const s of sql) {
      let parent = byId.get(parentIdOf(s) ?? "")
      while (parent !== undefined && !parent.name.startsWith("durable-tasks.storage.")) {
        parent = byId.get(parentIdOf(parent) ?? "")
      }
      expect(parent, `${s.name} outside a storage span`).toBeDefined()
    }
  })

  it("traceStorage must be a boolean", async () => {
    const exit = await Effect.runPromiseExit(
      Effect.scoped(Layer.build(
        DurableExecutor.layerMemory({ traceStorage: "yes" as never })
      ))
    )
    expect(JSON.stringify(exit)).toContain("traceStorage must be a boolean")
  })
})
