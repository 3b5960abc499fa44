/**
 * npm run simulate -- [options]
 *
 *   --seeds N            run seeds from..from+N-1 (default 3000, about a minute)
 *   --from S             first seed (default 1)
 *   --seed S             replay one seed: its report, trace hash and violations (shrunk if it fails)
 *   --trace              with --seed: print every trace line
 *   --soak               progress lines while it runs (use with a large --seeds)
 *   --workers W          split the seeds over W processes (default 1)
 *   --until-violation    stop at the first failing seed and say after how many seeds (mutation runs)
 *   --no-shrink          do not shrink failures with fast-check
 *   --backend B          mixed (default: every 10th seed on a real SQLite file, the others in memory), memory, or
 *                        sqlite (a real SQLite file per seed: slower, use fewer seeds)
 *
 * Exits with 1 when a seed fails, or when a fault kind or transition is hit in under 1% of the
 * seeds of a run of at least 100 seeds.
 */
import { fork } from "node:child_process"
import { type CoverageSnapshot, CoverageSummary } from "../src/simulation/Coverage.js"
import type { Report } from "../src/simulation/Simulation.js"
import {
  type BackendKind,
  describeFailure,
  type Failure,
  replayCommand,
  runSeed,
  shrink,
  SQLITE_EVERY
} from "./sweep.js"

interface Options {
  readonly seeds: number
  readonly from: number
  readonly seed: number | undefined
  readonly trace: boolean
  readonly soak: boolean
  readonly workers: number
  readonly untilViolation: boolean
  readonly shrink: boolean
  readonly worker: boolean
  readonly backend: BackendKind
}

const parse = (argv: ReadonlyArray<string>): Options => {
  const value = (name: string): number | undefined => {
    const i = argv.indexOf(name)
    if (i < 0) return undefined
    const n = Number(argv[i + 1])
    if (!Number.isSafeInteger(n)) throw new Error(`${name} needs an integer, got ${String(argv[i + 1])}`)
    return n
  }
  const b = argv.indexOf("--backend")
  const backend = b < 0 ? "mixed" : argv[b + 1]
  if (backend !== "memory" && backend !== "sqlite" && backend !== "mixed") {
    throw new Error(`--backend needs mixed, memory or sqlite, got ${String(backend)}`)
  }
  return {
    backend,
    seeds: value("--seeds") ?? 3_000,
    from: value("--from") ?? 1,
    seed: value("--seed"),
    trace: argv.includes("--trace"),
    soak: argv.includes("--soak"),
    workers: Math.max(1, value("--workers") ?? 1),
    untilViolation: argv.includes("--until-violation"),
    shrink: !argv.includes("--no-shrink"),
    worker: argv.includes("--worker")
  }
}

/** What one process reports of its range. */
interface RangeResult {
  readonly done: number
  readonly coverage: CoverageSnapshot
  readonly failures: ReadonlyArray<{ readonly seed: number; readonly report: Omit<Report, "outcome"> }>
  readonly executions: number
  readonly simulatedMs: number
  readonly firstFailureAfter: number | undefined
}

const runRange = (
  from: number,
  count: number,
  options: {
    readonly untilViolation: boolean
    readonly backend: BackendKind
    readonly onProgress?: (done: number, failures: number) => void
  }
): RangeResult => {
  const coverage = new CoverageSummary()
  const failures: Array<{ seed: number; report: Omit<Report, "outcome"> }> = []
  let executions = 0
  let simulatedMs = 0
  let done = 0
  let firstFailureAfter: number | undefined
  for (let seed = from; seed < from + count; seed++) {
    const { outcome: _, ...report } = runSeed(seed, undefined, options.backend)
    done++
    coverage.add(report.coverage)
    executions += report.executions
    simulatedMs += report.simulatedMs
    if (!report.ok) {
      failures.push({ seed, report })
      firstFailureAfter ??= done
      if (options.untilViolation) break
    }
    if (done % 250 === 0) options.onProgress?.(done, failures.length)
  }
  return { done, coverage: coverage.snapshot(), failures, executions, simulatedMs, firstFailureAfter }
}

const replay = (options: Options, seed: number): number => {
  const started = performance.now()
  const report = runSeed(seed, options.trace ? (line) => console.log(line) : undefined, options.backend)
  const ms = performance.now() - started
  console.log(
    `seed ${seed}: ${report.ok ? "ok" : "FAILED"}, trace ${report.traceHash}, ${report.executions} executions ` +
      `(${report.completed} completed), ${(report.simulatedMs / 1000).toFixed(1)}s simulated, ${report.steps} steps, ${
        ms.toFixed(0)
      }ms`
  )
  for (const [key, n] of Object.entries(report.coverage)) console.log(`  ${key}: ${n}`)
  if (!report.ok) {
    console.log(
      describeFailure(
        { seed, report },
        options.shrink ? shrink(seed, undefined, options.backend) : undefined,
        options.backend
      )
    )
    return 1
  }
  return 0
}

const main = async (): Promise<number> => {
  const options = parse(process.argv.slice(2))
  if (options.seed !== undefined) return replay(options, options.seed)

  if (options.worker) {
    const result = runRange(options.from, options.seeds, {
      untilViolation: options.untilViolation,
      backend: options.backend,
      onProgress: (done, failures) => process.send?.({ type: "progress", done, failures })
    })
    await new Promise<void>((resolve) => process.send!({ type: "done", result }, () => resolve()))
    return 0
  }

  const started = performance.now()
  let lastPrint = started
  const progress = (done: number, failures: number) => {
    const now = performance.now()
    if (!options.soak || now - lastPrint < 10_000) return
    lastPrint = now
    const rate = done / ((now - started) / 1000)
    console.log(
      `  ${done}/${options.seeds} seeds, ${failures} failing, ${rate.toFixed(1)} seeds/s, ` +
        `about ${((options.seeds - done) / rate / 60).toFixed(1)} min left`
    )
  }

  let results: Array<RangeResult>
  if (options.workers === 1) {
    results = [
      runRange(options.from, options.seeds, {
        untilViolation: options.untilViolation,
        backend: options.backend,
        onProgress: progress
      })
    ]
  } else {
    const chunk = Math.ceil(options.seeds / options.workers)
    const done = new Array<number>(options.workers).fill(0)
    const failing = new Array<number>(options.workers).fill(0)
    results = await Promise.all(
      Array.from({ length: options.workers }, (_, i) => {
        const from = options.from + i * chunk
        const count = Math.max(0, Math.min(chunk, options.from + options.seeds - from))
        return new Promise<RangeResult>((resolve, reject) => {
          const child = fork(process.argv[1]!, [
            "--worker",
            "--from",
            String(from),
            "--seeds",
            String(count),
            "--backend",
            options.backend
          ], {
            execArgv: process.execArgv
          })
          child.on("message", (message: any) => {
            if (message.type === "progress") {
              done[i] = message.done
              failing[i] = message.failures
              progress(done.reduce((a, b) => a + b, 0), failing.reduce((a, b) => a + b, 0))
            } else if (message.type === "done") resolve(message.result)
          })
          child.on("exit", (code) => code !== 0 && reject(new Error(`worker ${i} exited with ${code}`)))
        })
      })
    )
  }
  const elapsedS = (performance.now() - started) / 1000

  const coverage = new CoverageSummary()
  for (const r of results) coverage.merge(r.coverage)
  const failures: Array<Failure> = results.flatMap((r) =>
    r.failures.map((f) => ({ seed: f.seed, report: { ...f.report, outcome: undefined } }))
  )
  const seeds = results.reduce((n, r) => n + r.done, 0)
  const executions = results.reduce((n, r) => n + r.executions, 0)
  const simulatedMs = results.reduce((n, r) => n + r.simulatedMs, 0)

  if (options.untilViolation) {
    const first = results[0]!.firstFailureAfter
    console.log(
      first === undefined
        ? `NOT DETECTED in ${seeds} seeds`
        : `DETECTED after ${first} seeds (seed ${failures[0]!.seed})`
    )
    if (failures[0] !== undefined) {
      console.log(failures[0].report.violations.slice(0, 3).map((v) => `  ${v}`).join("\n"))
    }
    return 0
  }

  console.log(coverage.table())
  for (const failure of failures.slice(0, 5)) {
    const shrunk = options.shrink && failure === failures[0]
      ? shrink(failure.seed, undefined, options.backend)
      : undefined
    console.log(describeFailure(failure, shrunk, options.backend))
  }
  const missing = seeds >= 100 ? coverage.missing(0.01) : []
  for (const key of missing) {
    console.log(`coverage: '${key}' hit in ${(coverage.share(key) * 100).toFixed(2)}% of seeds, under 1%`)
  }
  console.log(
    `simulate: ${seeds} seeds (from ${options.from}, ${
      options.backend === "mixed" ? `every ${SQLITE_EVERY}th on SQLite` : `${options.backend} backend`
    }), ${failures.length} failing, ${executions} executions, ` +
      `${(simulatedMs / 3_600_000).toFixed(1)} h simulated, in ${elapsedS.toFixed(1)}s (${
        (seeds / elapsedS).toFixed(1)
      } seeds/s)`
  )
  if (failures.length > 0) console.log(`replay the first: ${replayCommand(failures[0]!.seed, options.backend)}`)
  return failures.length > 0 || missing.length > 0 ? 1 : 0
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error)
    process.exit(2)
  }
)
