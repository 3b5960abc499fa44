/**
 * The dashboard over the test Postgres server (as `durable-tasks dashboard --db postgres://…`
 * would serve it): its JSON API counts what a real executor, on its own storage on the same
 * schema, made there, and its bulk retry re-runs the failed ones there.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as DurableExecutor from "../../src/DurableExecutor.js"
import * as PgStorage from "../../src/PgStorage.js"
import * as Task from "../../src/Task.js"
import { databaseUrl, schemasDroppedAfterAll } from "../support/sql.js"
import { type Served, startDashboardOn } from "./support.js"

const ok = Task.make({ id: "ok", timeoutMs: 5_000, run: (n: number) => Effect.succeed(n * 2) })
const runs = new Map<number, number>()
const once = Task.make({
  id: "fails-once",
  timeoutMs: 5_000,
  run: (n: number) =>
    Effect.suspend(() => {
      runs.set(n, (runs.get(n) ?? 0) + 1)
      return runs.get(n) === 1 ? Effect.fail(new Error(`fails once: ${n}`)) : Effect.succeed(`ok ${n}`)
    })
})

const schema = schemasDroppedAfterAll()("dashboard")
const storage = () => PgStorage.layer({ connectionString: databaseUrl(), schema, maxConnections: 2 })
const runtime = ManagedRuntime.make(
  DurableExecutor.layer({ tasks: [ok, once], pollIntervalMs: 50 }).pipe(Layer.provideMerge(storage()))
)
const run = <A, E>(f: (dx: DurableExecutor.DurableExecutorService) => Effect.Effect<A, E>) =>
  runtime.runPromise(Effect.flatMap(DurableExecutor.DurableExecutor, f))

const TOKEN = "postgres-dashboard-token"
let served: Served
let origin: string
let failedIds: ReadonlyArray<string>

const api = (path: string, init: RequestInit = {}) =>
  fetch(`${origin}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${TOKEN}`, origin, "content-type": "application/json", ...init.headers }
  })

beforeAll(async () => {
  const okIds = await run((dx) => dx.enqueueMany(ok, [1, 2, 3]))
  failedIds = await run((dx) => dx.enqueueMany(once, [1, 2]))
  await run((dx) => Effect.forEach([...okIds, ...failedIds], (id) => dx.wait(id)))
  served = await startDashboardOn(storage(), { token: TOKEN })
  origin = new URL(served.url).origin
}, 60_000)

afterAll(async () => {
  await served?.stop()
  await runtime.dispose()
})

describe("dashboard on Postgres", () => {
  it("GET api/overview counts the executor's executions by status and by task", async () => {
    const r = await api("/api/overview")
    expect(r.status).toBe(200)
    const body = await r.json() as {
      byStatus: Record<string, number>
      byTask: Record<string, number>
      latestFailures: Array<{ executionId: string }>
    }
    expect(body.byStatus).toEqual({ completed: 3, failed: 2 })
    expect(body.byTask).toEqual({ ok: 3, "fails-once": 2 })
    expect(body.latestFailures.map((e) => e.executionId).sort()).toEqual([...failedIds].sort())
  })

  it("GET api/executions?status=failed lists the failed ones", async () => {
    const r = await api("/api/executions?status=failed")
    expect(r.status).toBe(200)
    const body = await r.json() as { executions: Array<{ executionId: string; status: string }>; nextCursor: null }
    expect(body.executions.map((e) => e.status)).toEqual(["failed", "failed"])
    expect(body.executions.map((e) => e.executionId).sort()).toEqual([...failedIds].sort())
    expect(body.nextCursor).toBeNull()
  })

  it("POST api/executions/retry retries the failed ones there; the executor completes them", async () => {
    const r = await api("/api/executions/retry", { method: "POST", body: JSON.stringify({ status: "failed" }) })
    expect(r.status).toBe(200)
    expect(await r.json()).toEqual({ matched: 2, changed: 2 })
    const after = await run((dx) => Effect.forEach(failedIds, (id) => dx.wait(id)))
    expect(after.map((e) => e.status)).toEqual(["completed", "completed"])
    const overview = await (await api("/api/overview")).json() as { byStatus: Record<string, number> }
    expect(overview.byStatus).toEqual({ completed: 5 })
  })
})
