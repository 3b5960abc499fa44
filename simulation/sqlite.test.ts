import * as Effect from "effect/Effect"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import * as Simulation from "../src/simulation/Simulation.js"
import * as SqliteFile from "../src/simulation/SqliteFile.js"
import * as SqliteStorage from "../src/SqliteStorage.js"
import { TaskStorage } from "../src/TaskStorage.js"
import { planFor, runSeed } from "./sweep.js"
import { scenarioOf } from "./Workload.js"

// The default sweep (engine.test.ts, `npm run simulate`) runs every 10th seed on a SQLite file; these
// check that such a seed replays exactly and that the file holds what the checker saw.
describe("simulation of the engine under faults, on a SQLite file", () => {
  it("replays a seed to the same trace hash on SQLite, in this process and in a fresh one", () => {
    const first = runSeed(42, undefined, "sqlite")
    const again = runSeed(42, undefined, "sqlite")
    expect(first.ok, first.violations.join("\n")).toBe(true)
    expect(again.traceHash).toBe(first.traceHash)
    expect(again.coverage).toEqual(first.coverage)
    expect(runSeed(43, undefined, "sqlite").traceHash).not.toBe(first.traceHash)
    const output = execFileSync("node_modules/.bin/tsx", ["simulation/cli.ts", "--seed", "42", "--backend", "sqlite"], {
      encoding: "utf8"
    })
    expect(output).toContain(`seed 42: ok, trace ${first.traceHash}`)
  }, 120_000)

  it("keeps every execution in the SQLite file, as the checker saw them", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "durable-tasks-sim-test-"))
    try {
      const filename = path.join(dir, "sim.db")
      const report = Simulation.run({ ...scenarioOf(planFor(3)), backend: SqliteFile.backend(filename) })
      expect(report.ok, report.violations.join("\n")).toBe(true)
      expect(report.executions).toBeGreaterThan(0)
      // A new connection on the file, after the run closed its own.
      const stored = Effect.runSync(
        Effect.flatMap(TaskStorage, (storage) => storage.list({ limit: 1_000_000 })).pipe(
          Effect.provide(SqliteStorage.layer({ filename })),
          Effect.scoped
        )
      )
      const byId = (a: { readonly id: string }, b: { readonly id: string }) => (a.id < b.id ? -1 : 1)
      const inFile = stored.map((r) => ({ id: r.executionId, status: r.status, output: r.output })).sort(byId)
      const seen = report.outcome!.rows.map((r) => ({ id: r.executionId, status: r.status, output: r.output })).sort(
        byId
      )
      expect(inFile.length).toBe(report.executions)
      expect(inFile).toEqual(seen)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)
})
