/**
 * In-process scenarios: each gets a fresh storage, builds an executor through the Promise facade (the
 * API users call), warms it up, measures, and returns figures.
 */
import type {
  DurableExecutor,
  DurableExecutorOptions,
  DurableTask,
  DurableTaskExecution,
  DurableTaskHandle
} from "../src/index.js"
import type { OpenedStorage } from "./backends.js"
import { engine } from "./engine.js"
import { nowMs, percentile, sleep } from "./stats.js"

/** A target from the issue: the figure must be at least / at most `value`. */
export interface Target {
  readonly op: ">=" | "<="
  readonly value: number
}

export interface Figure {
  readonly backend: string
  readonly scenario: string
  readonly metric: string
  readonly value: number
  readonly unit: string
  readonly target?: Target | undefined
  readonly detail?: Record<string, unknown> | undefined
}

export interface Sizes {
  readonly flat: number
  readonly fanoutParents: number
  readonly wideParents: number
  readonly wideChildren: number
  readonly chains: number
  readonly latencySamples: number
  readonly memoryExecutions: number
  /** Measured runs of each throughput scenario, after warm-up runs of the same size. */
  readonly runs: number
  /** Warm-up: runs of the same size until this much time went by (at least one, at most 50). */
  readonly warmupMs: number
}

export const fullSizes: Sizes = {
  flat: 10_000,
  fanoutParents: 1_000,
  wideParents: 100,
  wideChildren: 50,
  chains: 100,
  latencySamples: 200,
  memoryExecutions: 100_000,
  runs: 3,
  warmupMs: 2_000
}

export const quickSizes: Sizes = {
  flat: 2_000,
  fanoutParents: 250,
  wideParents: 20,
  wideChildren: 50,
  chains: 20,
  latencySamples: 50,
  memoryExecutions: 20_000,
  runs: 2,
  warmupMs: 1_000
}

export interface ScenarioContext {
  readonly backend: string
  readonly open: () => Promise<OpenedStorage>
  readonly sizes: Sizes
  /** Targets from the issue, by `${backend}/${figure key}`. */
  readonly target: (key: string) => Target | undefined
}

export interface Scenario {
  readonly name: string
  readonly run: (ctx: ScenarioContext) => Promise<ReadonlyArray<Figure>>
}

export const executorOptions: DurableExecutorOptions = { logLevel: "warning" }
const TIMEOUT_MS = 600_000

/** Enqueues many executions of one task: one `enqueueTasks` batch, or one `enqueueTask` call each (concurrently). */
export const enqueueAll = <I, O>(
  executor: DurableExecutor,
  task: DurableTask<I, O>,
  inputs: ReadonlyArray<I>,
  mode: "batch" | "each"
): Promise<ReadonlyArray<DurableTaskHandle<O>>> =>
  mode === "batch"
    ? executor.enqueueTasks(task, inputs)
    : Promise.all(inputs.map((input) => executor.enqueueTask(task, input)))

/** Waits for every handle; throws when one did not complete. */
export const waitAll = async <O>(
  handles: ReadonlyArray<DurableTaskHandle<O>>
): Promise<ReadonlyArray<DurableTaskExecution<O>>> => {
  const executions = await Promise.all(handles.map((h) => h.waitAndGetExecution()))
  const bad = executions.find((e) => e.status !== "completed")
  if (bad !== undefined) {
    throw new Error(`execution ${bad.executionId} finished as ${bad.status}: ${bad.error?.message ?? ""}`)
  }
  return executions
}

const range = (n: number): Array<number> => Array.from({ length: n }, (_, i) => i)

/** Runs `body` with a started executor on a fresh storage, then shuts both down. */
const withExecutor = async <A>(
  ctx: ScenarioContext,
  define: (executor: DurableExecutor) => void,
  body: (executor: DurableExecutor) => Promise<A>
): Promise<A> => {
  const opened = await ctx.open()
  const executor = new engine.DurableExecutor(opened.storage, executorOptions)
  try {
    define(executor)
    await executor.start()
    return await body(executor)
  } finally {
    await executor.shutdown()
    await opened.close()
  }
}

export const defineTrivial = (executor: DurableExecutor) =>
  executor.task({ id: "trivial", timeoutMs: TIMEOUT_MS, run: (_ctx, n: number) => n })

interface Run {
  readonly executions: number
  readonly wallMs: number
  readonly cpuUsPerExecution: number
  readonly detail?: Record<string, unknown>
}

/** Times `once` (CPU time of this process included), and `detail` it returns. */
export const timed = async (executions: number, once: () => Promise<Record<string, unknown> | void>): Promise<Run> => {
  const cpu = process.cpuUsage()
  const t0 = nowMs()
  const detail = await once()
  const wallMs = nowMs() - t0
  const used = process.cpuUsage(cpu)
  return {
    executions,
    wallMs,
    cpuUsPerExecution: (used.user + used.system) / executions,
    ...(detail ? { detail } : {})
  }
}

const median = (values: ReadonlyArray<number>): number => percentile(values, 50)

/**
 * Warm-up runs (until `sizes.warmupMs` went by: V8 compiles the hot path in tiers, over many calls),
 * then `sizes.runs` measured runs; the median is reported.
 */
export const measure = async (ctx: ScenarioContext, run: () => Promise<Run>): Promise<{
  readonly rate: number
  readonly wallMs: number
  readonly detail: Record<string, unknown>
}> => {
  const warmupStart = nowMs()
  let warmups = 0
  do {
    await run()
    warmups++
  } while (warmups < 50 && nowMs() - warmupStart < ctx.sizes.warmupMs)
  const runs: Array<Run> = []
  for (let i = 0; i < ctx.sizes.runs; i++) runs.push(await run())
  return {
    rate: median(runs.map((r) => r.executions / (r.wallMs / 1000))),
    wallMs: median(runs.map((r) => r.wallMs)),
    detail: {
      executions: runs[0]!.executions,
      warmupRuns: warmups,
      runs: runs.map((r) => ({
        wallMs: Number(r.wallMs.toFixed(1)),
        cpuUsPerExecution: Number(r.cpuUsPerExecution.toFixed(1)),
        ...r.detail
      })),
      cpuUsPerExecution: Number(median(runs.map((r) => r.cpuUsPerExecution)).toFixed(1))
    }
  }
}

/** Flat: N trivial executions enqueued at once; executions per second from first enqueue to last completion. */
const flatWith = (mode: "batch" | "each"): Scenario["run"] => (ctx) => {
  let trivial!: DurableTask<number, number>
  return withExecutor(ctx, (e) => (trivial = defineTrivial(e)), async (executor) => {
    const result = await measure(ctx, () =>
      timed(ctx.sizes.flat, async () => {
        const t0 = nowMs()
        const handles = await enqueueAll(executor, trivial, range(ctx.sizes.flat), mode)
        const enqueueMs = nowMs() - t0
        await waitAll(handles)
        return { enqueueMs: Number(enqueueMs.toFixed(1)) }
      }))
    return [{
      backend: ctx.backend,
      scenario: mode === "batch" ? "flat" : "flat, one enqueueTask per execution",
      metric: "executions/s",
      value: result.rate,
      unit: "/s",
      target: mode === "batch" ? ctx.target("flat") : undefined,
      detail: result.detail
    }]
  })
}

/** Fan-out: parents with 2 trivial children each and a finalize task (4 executions per parent). */
const fanout: Scenario["run"] = (ctx) => {
  let parent!: DurableTask<number, unknown>
  return withExecutor(ctx, (executor) => {
    const child = defineTrivial(executor)
    parent = executor.parentTask({
      id: "fanout",
      timeoutMs: TIMEOUT_MS,
      runParent: (_ctx, n: number) => ({
        output: n,
        childrenTasks: [{ task: child, input: 1 }, { task: child, input: 2 }]
      }),
      finalizeTask: {
        id: "fanout_finalize",
        timeoutMs: TIMEOUT_MS,
        run: (_ctx, input: { childrenTasksOutputs: ReadonlyArray<{ output: unknown }> }) =>
          input.childrenTasksOutputs.length
      }
    })
  }, async (executor) => {
    const parents = ctx.sizes.fanoutParents
    const result = await measure(ctx, () =>
      timed(parents * 4, async () => {
        await waitAll(await enqueueAll(executor, parent, range(parents), "batch"))
      }))
    return [{
      backend: ctx.backend,
      scenario: "fan-out",
      metric: "executions/s",
      value: result.rate,
      unit: "/s",
      target: ctx.target("fanout"),
      detail: { parents, ...result.detail }
    }]
  })
}

/** Wide: parents with 50 children and a finalize task, plus sequential chains of 4 tasks, all enqueued together. */
const wide: Scenario["run"] = (ctx) => {
  let parent!: DurableTask<number, unknown>
  let chain!: DurableTask<number, number>
  return withExecutor(ctx, (executor) => {
    const child = defineTrivial(executor)
    const width = ctx.sizes.wideChildren
    parent = executor.parentTask({
      id: "wide",
      timeoutMs: TIMEOUT_MS,
      runParent: (_ctx, n: number) => ({
        output: n,
        childrenTasks: range(width).map((i) => ({ task: child, input: i }))
      }),
      finalizeTask: {
        id: "wide_finalize",
        timeoutMs: TIMEOUT_MS,
        run: (_ctx, input: { childrenTasksOutputs: ReadonlyArray<{ output: unknown }> }) =>
          input.childrenTasksOutputs.length
      }
    })
    const step = (k: number) =>
      executor.task({ id: `chain_step_${k}`, timeoutMs: TIMEOUT_MS, run: (_ctx, n: number) => n + 1 })
    chain = executor.sequentialTasks(step(1), step(2), step(3), step(4))
  }, async (executor) => {
    const executions = ctx.sizes.wideParents * (ctx.sizes.wideChildren + 2) + ctx.sizes.chains * 9
    const result = await measure(ctx, () =>
      timed(executions, async () => {
        const t0 = nowMs()
        let wideMs = 0
        let chainsMs = 0
        await Promise.all([
          enqueueAll(executor, parent, range(ctx.sizes.wideParents), "batch").then(waitAll).then(
            () => (wideMs = nowMs() - t0)
          ),
          enqueueAll(executor, chain, range(ctx.sizes.chains), "batch").then(waitAll).then((done) => {
            chainsMs = nowMs() - t0
            if (done.some((e, i) => e.output !== i + 4)) throw new Error("a chain computed a wrong output")
          })
        ])
        return { wideDoneMs: Number(wideMs.toFixed(1)), chainsDoneMs: Number(chainsMs.toFixed(1)) }
      }))
    return [{
      backend: ctx.backend,
      scenario: "wide",
      metric: "wall time",
      value: result.wallMs,
      unit: "ms",
      detail: {
        wideParents: ctx.sizes.wideParents,
        childrenPerParent: ctx.sizes.wideChildren,
        chains: ctx.sizes.chains,
        ...result.detail
      }
    }]
  })
}

/** Latency on an idle executor: enqueue → run start and enqueue → completed (seen by waitAndGetExecution). */
const latency: Scenario["run"] = (ctx) => {
  const started = new Map<number, number>()
  let probe!: DurableTask<number, number>
  return withExecutor(ctx, (executor) => {
    probe = executor.task({
      id: "probe",
      timeoutMs: TIMEOUT_MS,
      run: (_ctx, n: number) => {
        started.set(n, nowMs())
        return n
      }
    })
  }, async (executor) => {
    const toStart: Array<number> = []
    const toDone: Array<number> = []
    const warm = Math.min(20, ctx.sizes.latencySamples)
    for (let i = -warm; i < ctx.sizes.latencySamples; i++) {
      await sleep(3)
      const t0 = nowMs()
      const handle = await executor.enqueueTask(probe, i)
      await handle.waitAndGetExecution()
      const t2 = nowMs()
      if (i < 0) continue
      toStart.push(started.get(i)! - t0)
      toDone.push(t2 - t0)
    }
    const fig = (metric: string, samples: ReadonlyArray<number>, p: number, key?: string): Figure => ({
      backend: ctx.backend,
      scenario: "latency (idle)",
      metric,
      value: percentile(samples, p),
      unit: "ms",
      target: key === undefined ? undefined : ctx.target(key),
      detail: { samples: samples.length }
    })
    return [
      fig("enqueue→start p50", toStart, 50, "startP50"),
      fig("enqueue→start p99", toStart, 99),
      fig("enqueue→completed p50", toDone, 50),
      fig("enqueue→completed p99", toDone, 99)
    ]
  })
}

/** The in-process scenarios, in the order they run. */
export const scenarios: ReadonlyArray<Scenario> = [
  { name: "flat", run: flatWith("batch") },
  { name: "flat-each", run: flatWith("each") },
  { name: "fanout", run: fanout },
  { name: "wide", run: wide },
  { name: "latency", run: latency }
]
