/**
 * The storage conformance kit (durable-tasks/testing) against every backend, each compared with the
 * kit's naive reference model: memory, SQLite on a real temporary file, and Postgres; and against
 * deliberately broken storages, which it must reject: three wrong one call at a time, and two whose
 * transactions are not atomic (a claim that reads, yields, writes; a finish that reads the parent's
 * child counter, yields, and writes it back), which only concurrent calls expose.
 */
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import * as MemoryStorage from "../src/MemoryStorage.js"
import * as Planner from "../src/Planner.js"
import * as SqlStorage from "../src/SqlStorage.js"
import type { TaskStorage } from "../src/TaskStorage.js"
import { StorageConformance } from "../src/testing/index.js"
import { dropSchemas, pgClient, tempDir, uniqueName } from "./support/sql.js"
import { lostIncrement, nonAtomicClaim, serialCalls } from "./support/unisolatedStorage.js"

/**
 * An empty storage per scenario: one table for the whole run, emptied before each scenario (a
 * fresh table per scenario spends most of the run creating tables).
 */
const freshSqlStorage = (schema?: string) =>
  Effect.tap(
    SqlStorage.make({ tablePrefix: "kit_", ...(schema !== undefined ? { schema } : {}) }),
    () =>
      Effect.flatMap(SqlClient.SqlClient, (sql) =>
        sql.unsafe(`DELETE FROM ${schema !== undefined ? `"${schema}".` : ""}kit_executions`))
  )

/** The kit takes a while on a busy machine (memory, SQLite, Postgres at 200 scenarios: 3 s, 7 s, 14 s at load 7). */
const KIT_TIMEOUT_MS = 300_000

describe("storage conformance kit", () => {
  it(
    "memory conforms to the reference model",
    () => Effect.runPromise(StorageConformance.check({ make: MemoryStorage.make })),
    KIT_TIMEOUT_MS
  )

  it("SQLite on a real file conforms", async () => {
    const tmp = tempDir()
    try {
      const client = SqliteClient.layer({ filename: path.join(tmp.dir, "conformance.db") })
      await Effect.runPromise(
        StorageConformance.check({ make: freshSqlStorage() }).pipe(Effect.provide(client))
      )
    } finally {
      tmp.remove()
    }
  }, KIT_TIMEOUT_MS)

  describe("Postgres", () => {
    const schema = uniqueName("conformance")
    afterAll(() => dropSchemas([schema]))
    it("conforms", () =>
      Effect.runPromise(
        // Half the default: 200 scenarios took 14 s alone but 124 s with the machine's 2 cores at load 22.
        StorageConformance.check({ make: freshSqlStorage(schema), numRuns: 100 }).pipe(Effect.provide(pgClient()))
      ), KIT_TIMEOUT_MS)
  })

  describe("catches broken storages", () => {
    /** Ignores the lease fence: every runner's write is applied as if its lease were current. */
    const ignoresFence: Effect.Effect<TaskStorage["Type"]> = Effect.map(MemoryStorage.make, (inner) => ({
      ...inner,
      apply: (commands) =>
        Effect.flatMap(inner.getMany(commands.map((c) => c.executionId)), (rows) => {
          const current = new Map(rows.map((r) => [r.executionId, r.leaseId] as const))
          return inner.apply(commands.map((c) => {
            const e = c.event
            const lease = current.get(c.executionId)
            if ((e._tag === "RunSucceeded" || e._tag === "RunFailed" || e._tag === "Release") && lease) {
              return { ...c, event: { ...e, leaseId: lease } }
            }
            return c
          }))
        })
    }))

    /** Claims one execution more than asked. */
    const overClaims: Effect.Effect<TaskStorage["Type"]> = Effect.map(MemoryStorage.make, (inner) => ({
      ...inner,
      claim: (request) => inner.claim({ ...request, limit: request.limit + 1 })
    }))

    /** Loses the children a parent's run returned (the parent waits forever). */
    const dropsChildren: Effect.Effect<TaskStorage["Type"]> = Effect.map(MemoryStorage.make, (inner) => ({
      ...inner,
      apply: (commands) =>
        inner.apply(
          commands.map((c) => c.event._tag === "RunSucceeded" ? { ...c, event: { ...c.event, children: [] } } : c)
        )
    }))

    for (
      const [name, make] of [
        ["ignores the lease fence", ignoresFence],
        ["claims over the limit", overClaims],
        ["drops children", dropsChildren],
        ["claims without atomicity (read, yield, write)", nonAtomicClaim],
        ["loses child-count increments (read the parent, yield, write)", lostIncrement]
      ] as const
    ) {
      it(`rejects a storage that ${name}`, async () => {
        const exit = await Effect.runPromiseExit(StorageConformance.check({ make, numRuns: 200, seed: 7 }))
        expect(exit._tag).toBe("Failure")
        const message = exit._tag === "Failure" ? JSON.stringify(exit.cause) : ""
        expect(message).toContain("ConformanceFailure")
        expect(message).toMatch(/differs|no serial order explains/)
      })
    }

    it("catches a lost child-count increment in at least 9 of 10 seeds at the default scenario count", async () => {
      let caught = 0
      for (let seed = 1; seed <= 10; seed++) {
        const exit = await Effect.runPromiseExit(StorageConformance.check({ make: lostIncrement, seed, shrink: false }))
        if (exit._tag === "Failure") caught++
      }
      expect(caught).toBeGreaterThanOrEqual(9)
    })

    it("the non-atomic storages pass the kit's one-call-at-a-time steps: only its races catch them", async () => {
      const serialOnly = (make: Effect.Effect<TaskStorage["Type"]>) =>
        Effect.runPromiseExit(StorageConformance.check({ make: serialCalls(make), numRuns: 100, seed: 7 }))
      expect((await serialOnly(nonAtomicClaim))._tag).toBe("Success")
      expect((await serialOnly(lostIncrement))._tag).toBe("Success")
    })

    it("the fence bug is a real bug: the planner rejects a stale lease", () => {
      const row = { status: "running", leaseId: "l1" } as Parameters<typeof Planner.holdsLease>[0]
      expect(Planner.holdsLease(row, "l0")).toBe(false)
    })
  })
})
