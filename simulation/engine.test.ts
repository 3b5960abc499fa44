import { execFileSync } from "node:child_process"
import { describe, expect, it } from "vitest"
import { REQUIRED } from "../src/simulation/Coverage.js"
import { describeFailure, planFor, runSeed, shrink, SQLITE_EVERY, sweepYielding } from "./sweep.js"
import { countNodes } from "./Workload.js"

const SEEDS = 1_000

describe("simulation of the engine under faults", () => {
  it(
    `${SEEDS} seeds (every ${SQLITE_EVERY}th on a SQLite file): no invariant broken, every fault kind and ` +
      `transition in 1% of them`,
    async () => {
      const result = await sweepYielding(1, SEEDS)
      console.log(
        `simulation: ${SEEDS} seeds (${SEEDS / SQLITE_EVERY} on SQLite), ${result.executions} executions, ` +
          `${(result.simulatedMs / 3_600_000).toFixed(1)} h simulated, in ${(result.elapsedMs / 1000).toFixed(1)}s`
      )
      const explained = result.failures
        .slice(0, 3)
        .map((failure, i) => describeFailure(failure, i === 0 ? shrink(failure.seed) : undefined))
        .join("\n\n")
      expect(result.failures.map((f) => f.seed), explained).toEqual([])
      expect(result.coverage.missing(0.01), result.coverage.table()).toEqual([])
      expect(REQUIRED.length).toBeGreaterThan(30)
    },
    600_000
  )

  it("replays a seed to the same trace hash, in this process and in a fresh one", () => {
    const first = runSeed(42)
    runSeed(7)
    const again = runSeed(42)
    expect(again.traceHash).toBe(first.traceHash)
    expect(again.coverage).toEqual(first.coverage)
    expect(runSeed(43).traceHash).not.toBe(first.traceHash)
    const output = execFileSync("node_modules/.bin/tsx", ["simulation/cli.ts", "--seed", "42"], { encoding: "utf8" })
    expect(output).toContain(`seed 42: ok, trace ${first.traceHash}`)
  }, 120_000)

  it("shrinks a failing plan with fast-check", () => {
    // A stand-in failure: any run with three executions or more. The plan of seed 5 has more.
    const fails = (report: { readonly executions: number }) => report.executions >= 3
    expect(fails(runSeed(5))).toBe(true)
    const shrunk = shrink(5, fails)
    expect(shrunk).toBeDefined()
    expect(shrunk!.shrinks).toBeGreaterThan(0)
    expect(shrunk!.report.executions).toBe(3)
    const before = planFor(5).roots.reduce((n, r) => n + countNodes(r.node), 0)
    expect(shrunk!.nodes).toBeLessThan(before)
  }, 300_000)
})
