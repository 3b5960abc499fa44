/**
 * Runs the engine's random workload over many seeds: coverage over all of them, failures with the
 * command that replays each one, and shrinking of a failing plan with fast-check.
 */
import * as fc from "effect/FastCheck"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { CoverageSummary } from "../src/simulation/Coverage.js"
import * as Simulation from "../src/simulation/Simulation.js"
import * as SqliteFile from "../src/simulation/SqliteFile.js"
import { countNodes, planArb, planOf, prune, scenarioOf, type WorkloadPlan } from "./Workload.js"

/**
 * The storage backend of a sweep: the in-memory one, a SQLite file per seed (temporary), or
 * `mixed` (the default): every {@link SQLITE_EVERY}th seed on SQLite, the others in memory.
 */
export type BackendKind = "memory" | "sqlite" | "mixed"

/** In a `mixed` sweep, seeds that are a multiple of this run on SQLite. */
export const SQLITE_EVERY = 10

/** The backend seed `seed` runs on in a sweep of `kind`. */
export const backendOf = (kind: BackendKind, seed: number): "memory" | "sqlite" =>
  kind === "mixed" ? (seed % SQLITE_EVERY === 0 ? "sqlite" : "memory") : kind

/** The command that replays one seed (the default, `mixed`, picks the seed's backend by itself). */
export const replayCommand = (seed: number, backend: BackendKind = "mixed"): string => {
  const own = backendOf(backend, seed)
  return `npm run simulate -- --seed ${seed}${own === backendOf("mixed", seed) ? "" : ` --backend ${own}`}`
}

/**
 * Runs `f` with a scenario's backend field: nothing for memory, a fresh SQLite file (removed afterwards) for sqlite.
 */
const withBackend = <A>(backend: "memory" | "sqlite", f: (extra: Partial<Simulation.Scenario>) => A): A => {
  if (backend === "memory") return f({})
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "durable-tasks-sim-"))
  try {
    return f({ backend: SqliteFile.backend(path.join(dir, "sim.db")) })
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** The plan of a seed, as the simulation runs it (cut to the node budget). */
export const planFor = (seed: number): WorkloadPlan => prune(planOf(seed))

/** Runs one plan. */
export const runPlan = (
  plan: WorkloadPlan,
  onTrace?: (line: string) => void,
  backend: BackendKind = "mixed"
): Simulation.Report =>
  withBackend(
    backendOf(backend, plan.seed),
    (extra) =>
      Simulation.run(
        onTrace === undefined ? { ...scenarioOf(plan), ...extra } : { ...scenarioOf(plan), ...extra, onTrace }
      )
  )

/** Runs one seed; `seed` is also the run's own seed when the plan is replayed from it. */
export const runSeed = (
  seed: number,
  onTrace?: (line: string) => void,
  backend: BackendKind = "mixed"
): Simulation.Report => {
  const report = runPlan(planFor(seed), onTrace, backendOf(backend, seed))
  return { ...report, seed }
}

export interface Failure {
  readonly seed: number
  readonly report: Simulation.Report
}

export interface SweepResult {
  readonly seeds: number
  readonly failures: ReadonlyArray<Failure>
  readonly coverage: CoverageSummary
  readonly elapsedMs: number
  readonly executions: number
  readonly simulatedMs: number
}

/** Runs seeds `from`, `from + 1`, … (`count` of them); `onSeed` sees each report as it comes. */
export const sweep = (
  from: number,
  count: number,
  onSeed?: (seed: number, report: Simulation.Report) => void,
  backend: BackendKind = "mixed"
): SweepResult => {
  const coverage = new CoverageSummary()
  const failures: Array<Failure> = []
  const started = performance.now()
  let executions = 0
  let simulatedMs = 0
  for (let seed = from; seed < from + count; seed++) {
    const report = runSeed(seed, undefined, backend)
    coverage.add(report.coverage)
    executions += report.executions
    simulatedMs += report.simulatedMs
    if (!report.ok) failures.push({ seed, report })
    onSeed?.(seed, report)
  }
  return { seeds: count, failures, coverage, elapsedMs: performance.now() - started, executions, simulatedMs }
}

/**
 * {@link sweep}, giving the event loop a turn every `yieldEvery` seeds (a test runner's worker must
 * answer its parent while a long sweep runs).
 */
export const sweepYielding = async (
  from: number,
  count: number,
  backend: BackendKind = "mixed",
  yieldEvery = 20
): Promise<SweepResult> => {
  const coverage = new CoverageSummary()
  const failures: Array<Failure> = []
  let elapsedMs = 0
  let executions = 0
  let simulatedMs = 0
  for (let start = from; start < from + count; start += yieldEvery) {
    const part = sweep(start, Math.min(yieldEvery, from + count - start), undefined, backend)
    coverage.merge(part.coverage.snapshot())
    failures.push(...part.failures)
    elapsedMs += part.elapsedMs
    executions += part.executions
    simulatedMs += part.simulatedMs
    await new Promise((resolve) => setImmediate(resolve))
  }
  return { seeds: count, failures, coverage, elapsedMs, executions, simulatedMs }
}

export interface Shrunk {
  readonly plan: WorkloadPlan
  readonly report: Simulation.Report
  readonly nodes: number
  readonly shrinks: number
}

/**
 * Shrinks the plan of a failing seed with fast-check: the same seed draws the same first plan,
 * which fast-check then makes smaller while the run still fails (`fails`: by default, any violation).
 */
export const shrink = (
  seed: number,
  fails: (report: Simulation.Report) => boolean = (report) => !report.ok,
  backend: BackendKind = "mixed"
): Shrunk | undefined => {
  const own = backendOf(backend, seed)
  const details = fc.check(fc.property(planArb, (plan) => !fails(runPlan(prune(plan), undefined, own))), {
    seed,
    numRuns: 1
  })
  if (!details.failed || details.counterexample === null) return undefined
  const plan = prune(details.counterexample[0])
  return {
    plan,
    report: runPlan(plan, undefined, own),
    nodes: plan.roots.reduce((n, r) => n + countNodes(r.node), 0),
    shrinks: details.numShrinks
  }
}

/** A short text for a failure: the seed, how to replay it, its violations and last events. */
export const describeFailure = (failure: Failure, shrunk?: Shrunk, backend: BackendKind = "mixed"): string => {
  const lines = [
    `seed ${failure.seed} FAILED (trace ${failure.report.traceHash})`,
    `  replay: ${replayCommand(failure.seed, backend)}`,
    ...failure.report.violations.slice(0, 10).map((v) => `  violation: ${v}`)
  ]
  if (shrunk !== undefined) {
    lines.push(
      `  shrunk by fast-check (${shrunk.shrinks} steps) to ${shrunk.nodes} tasks in ${shrunk.plan.roots.length} roots:`,
      ...shrunk.report.violations.slice(0, 5).map((v) => `    ${v}`),
      `  shrunk plan: ${JSON.stringify(shrunk.plan)}`
    )
  }
  lines.push("  last events:", ...failure.report.recentTrace.slice(-25).map((l) => `    ${l}`))
  return lines.join("\n")
}
