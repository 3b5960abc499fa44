/**
 * The tasks of the crash tests, defined with the Promise facade. Each run appends a start line and
 * an end line to this process's run log (`S|E executionId pid attempt timeMs`), so the test can
 * count runs, see runs cut short by a kill, and check that every recorded output came from a run
 * that actually finished.
 */
import * as fs from "node:fs"
import type { DurableExecutor } from "../../src/index.js"

export interface LeafInput {
  readonly i: number
  readonly sleepMs: number
  /** Added to the sleep of every retry, so that a re-run is still in progress when a stale runner wakes up. */
  readonly retrySlowMs: number
}
export interface LeafOutput {
  readonly i: number
  readonly pid: number
  readonly attempt: number
}

export interface CrashTaskOptions {
  readonly runLog: string | undefined
  readonly timeoutMs: number
  readonly maxAttempts: number
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (ms <= 0) return resolve()
    const timer = setTimeout(resolve, ms)
    signal.addEventListener("abort", () => {
      clearTimeout(timer)
      reject(new Error("aborted"))
    }, { once: true })
  })

export const defineCrashTasks = (executor: DurableExecutor, options: CrashTaskOptions) => {
  const log = (kind: "S" | "E", executionId: string, attempt: number) => {
    if (options.runLog !== undefined) {
      fs.appendFileSync(options.runLog, `${kind} ${executionId} ${process.pid} ${attempt} ${Date.now()}\n`)
    }
  }
  const common = {
    timeoutMs: options.timeoutMs,
    retryOptions: { maxAttempts: options.maxAttempts, baseDelayMs: 10, delayMultiplier: 1.5, maxDelayMs: 200 }
  }
  const leaf = executor.task({
    ...common,
    id: "crash.leaf",
    run: async (ctx, input: LeafInput): Promise<LeafOutput> => {
      log("S", ctx.executionId, ctx.attempt)
      await sleep(input.sleepMs + (ctx.attempt > 0 ? input.retrySlowMs : 0), ctx.cancelSignal)
      log("E", ctx.executionId, ctx.attempt)
      return { i: input.i, pid: process.pid, attempt: ctx.attempt }
    }
  })
  const parent = executor.parentTask({
    ...common,
    id: "crash.parent",
    runParent: (
      ctx,
      input: { readonly i: number; readonly children: number; readonly sleepMs: number; readonly retrySlowMs: number }
    ) => {
      log("S", ctx.executionId, ctx.attempt)
      log("E", ctx.executionId, ctx.attempt)
      return {
        output: { i: input.i, pid: process.pid, attempt: ctx.attempt },
        childrenTasks: Array.from({ length: input.children }, (_, k) => ({
          task: leaf,
          input: { i: input.i * 100 + k, sleepMs: input.sleepMs, retrySlowMs: input.retrySlowMs }
        }))
      }
    },
    finalizeTask: {
      ...common,
      id: "crash.sum",
      run: (ctx, input: { childrenTasksOutputs: ReadonlyArray<{ output?: unknown }> }) => {
        log("S", ctx.executionId, ctx.attempt)
        log("E", ctx.executionId, ctx.attempt)
        const sum = input.childrenTasksOutputs.reduce(
          (acc, c) => acc + ((c.output as LeafOutput | undefined)?.i ?? 0),
          0
        )
        return { sum, pid: process.pid, attempt: ctx.attempt }
      }
    }
  })
  return { leaf, parent }
}
