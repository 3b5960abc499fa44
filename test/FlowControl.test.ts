import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as path from "node:path"
import type { ExecutionRow } from "../src/ExecutionRow.js"
import { makeReady } from "../src/ExecutionRow.js"
import type { FlowLimits } from "../src/FlowControl.js"
import * as MemoryStorage from "../src/MemoryStorage.js"
import * as RetryOptions from "../src/RetryOptions.js"
import * as SqlStorage from "../src/SqlStorage.js"
import type { TaskStorage } from "../src/TaskStorage.js"
import { ReferenceModel } from "../src/testing/ReferenceModel.js"
import { pgClient, schemasDroppedAfterAll, tempDir } from "./support/sql.js"

const newSchema = schemasDroppedAfterAll()
type Storage = TaskStorage["Type"]
const spec = (taskId: string) => ({ taskId, timeoutMs: 60_000, retry: RetryOptions.noRetries, sleepMsBeforeRun: 0 })
let counter = 0
const row = (taskId: string, o: { key?: string | null; priority?: number; at?: number } = {}): ExecutionRow =>
  makeReady({
    spec: spec(taskId),
    executionId: `e${String(counter++).padStart(7, "0")}`,
    input: null,
    nowMs: o.at ?? 1_000,
    priority: o.priority,
    concurrencyKey: o.key ?? null
  })
const claim = (storage: Storage, limit: number, flow?: ReadonlyMap<string, FlowLimits>, taskIds = ["t", "u"]) =>
  storage.claim({
    nowMs: 10_000,
    limit,
    taskIds: new Set(taskIds),
    executorId: "x",
    claimId: `c${counter++}`,
    leaseLeewayMs: 1_000,
    flow
  })

const pgStorage = (schema: string) =>
  Effect.flatMap(Layer.build(pgClient(2)), (ctx) => SqlStorage.make({ schema }).pipe(Effect.provide(ctx)))

const storages: ReadonlyArray<readonly [string, () => Effect.Effect<Storage, unknown, Scope.Scope>]> = [
  ["memory", () => MemoryStorage.make],
  [
    "sqlite",
    () =>
      Effect.flatMap(
        Effect.acquireRelease(Effect.sync(tempDir), (tmp) => Effect.sync(tmp.remove)),
        (tmp) =>
          Effect.flatMap(
            Layer.build(SqliteClient.layer({ filename: path.join(tmp.dir, "f.db") })),
            (ctx) => SqlStorage.make().pipe(Effect.provide(ctx))
          )
      )
  ],
  ["postgres", () => pgStorage(newSchema("flow"))]
]

const ids = (rows: ReadonlyArray<ExecutionRow>) => rows.map((r) => r.executionId)

describe.each(storages)("flow control on %s", (_name, make) => {
  it.live("priority: higher first, then oldest; a not-due high priority does not block", () =>
    Effect.scoped(Effect.gen(function*() {
      const storage = yield* make()
      const low = row("t", { at: 100 })
      const high = row("t", { priority: 5, at: 900 })
      const mid = row("u", { priority: 1, at: 500 })
      const later = { ...row("t", { priority: 9 }), startAt: 50_000 }
      yield* storage.insert([low, high, mid, later])
      expect(ids(yield* claim(storage, 2))).toEqual([high.executionId, mid.executionId])
      expect(ids(yield* claim(storage, 5))).toEqual([low.executionId])
    })))

  it.live("concurrency.limit and perKey hold; slots come back when executions finish", () =>
    Effect.scoped(Effect.gen(function*() {
      const storage = yield* make()
      const flow = new Map([["t", { limit: 3, perKey: 1 }]])
      const rows = [row("t", { key: "a" }), row("t", { key: "a" }), row("t", { key: "b" }), row("t", { key: "c" })]
      rows.push(row("t", { key: "d" }), row("u"), row("u"))
      yield* storage.insert(rows)
      const first = yield* claim(storage, 10, flow)
      const ts = first.filter((r) => r.taskId === "t")
      expect(ts.length).toBe(3)
      expect(new Set(ts.map((r) => r.concurrencyKey)).size).toBe(3)
      expect(first.filter((r) => r.taskId === "u").length).toBe(2)
      expect(yield* claim(storage, 10, flow)).toEqual([])
      const done = ts.find((r) => r.concurrencyKey === "a") ?? ts[0]!
      yield* storage.apply([{
        executionId: done.executionId,
        event: {
          _tag: "RunSucceeded",
          nowMs: 10_000,
          leaseId: done.leaseId!,
          runOutput: null,
          children: [],
          finalize: null
        }
      }])
      const next = yield* claim(storage, 10, flow)
      expect(next.length).toBe(1)
      const stillRunning = ts.filter((r) => r !== done).map((r) => r.concurrencyKey)
      expect(stillRunning).not.toContain(next[0]!.concurrencyKey)
    })))

  it.live("fairness: a hot key with many ready does not delay other keys' first starts", () =>
    Effect.scoped(Effect.gen(function*() {
      const storage = yield* make()
      const flow = new Map([["t", { perKey: 1 }]])
      const hot = Array.from({ length: 2_000 }, () => row("t", { key: "hot", at: 10 }))
      const others = Array.from({ length: 20 }, (_, i) => row("t", { key: `k${i}`, at: 5_000 }))
      yield* storage.insert(hot)
      yield* storage.insert(others)
      const claimed = yield* claim(storage, 100, flow, ["t"])
      expect(claimed.length).toBe(21)
      expect(new Set(claimed.map((r) => r.concurrencyKey)).size).toBe(21)
    })))

  it.live("the reference model agrees", () =>
    Effect.scoped(Effect.gen(function*() {
      const storage = yield* make()
      const model = new ReferenceModel()
      const flow = new Map([["t", { limit: 4, perKey: 2 }]])
      const rows = Array.from({ length: 30 }, (_, i) => row("t", { key: `k${i % 3}`, priority: i % 2, at: 100 + i }))
      yield* storage.insert(rows)
      model.insert(rows)
      const request = {
        nowMs: 10_000,
        limit: 10,
        taskIds: new Set(["t"]),
        executorId: "x",
        claimId: "c",
        leaseLeewayMs: 1_000,
        flow
      }
      expect(ids(yield* storage.claim(request)).sort()).toEqual(ids(model.claim(request)).sort())
    })))
})

describe("flow control on Postgres, two storages on separate pools racing", () => {
  it.live("never more than limit running, nor perKey per key", () =>
    Effect.gen(function*() {
      const schema = newSchema("flowrace")
      const flow = new Map([["t", { limit: 5, perKey: 2 }]])
      const run = Effect.gen(function*() {
        const one = yield* pgStorage(schema)
        const two = yield* pgStorage(schema)
        yield* one.insert(Array.from({ length: 60 }, (_, i) => row("t", { key: `k${i % 4}` })))
        for (let round = 0; round < 10; round++) {
          const claims = yield* Effect.all(
            Array.from({ length: 6 }, (_, i) => claim(i % 2 === 0 ? one : two, 3, flow, ["t"])),
            { concurrency: "unbounded" }
          )
          const running = yield* one.list({ status: "running", limit: 1_000 })
          expect(running.length).toBeLessThanOrEqual(5)
          const byKey = new Map<string | null, number>()
          for (const r of running) byKey.set(r.concurrencyKey, (byKey.get(r.concurrencyKey) ?? 0) + 1)
          for (const n of byKey.values()) expect(n).toBeLessThanOrEqual(2)
          expect(claims.flat().length).toBeGreaterThan(0)
          // Finish two of them, so the next round races for the freed slots.
          for (const r of running.slice(0, 2)) {
            yield* one.apply([{
              executionId: r.executionId,
              event: {
                _tag: "RunSucceeded",
                nowMs: 10_000,
                leaseId: r.leaseId!,
                runOutput: null,
                children: [],
                finalize: null
              }
            }])
          }
        }
      })
      yield* Effect.scoped(run)
    }))
})
