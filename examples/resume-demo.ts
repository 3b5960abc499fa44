/**
 * Kill and resume on SQLite. A parent task runs 12 steps (two at a time, half a second each);
 * progress lives in `.durable-tasks/resume-demo.db`. Kill the process half-way, start it again, and
 * it picks up where it stopped: finished steps are not run again, the ones the dead process held
 * run again once their leases lapse (timeout 2 s + leeway 1 s).
 *
 *   npx tsx examples/resume-demo.ts --crash-after 1500   # dies with SIGKILL after 1.5 s
 *   npx tsx examples/resume-demo.ts                      # resumes and finishes
 *
 * (Ctrl-C or `kill -9 <pid>` work as well as --crash-after.)
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { createSqliteStorage, DurableExecutor } from "../src/index.js"

const dir = ".durable-tasks"
const idFile = path.join(dir, "resume-demo.id")
const crashIndex = process.argv.indexOf("--crash-after")
const crashAfterMs = crashIndex >= 0 ? Number(process.argv[crashIndex + 1]) : undefined

const executor = new DurableExecutor(createSqliteStorage({ filename: path.join(dir, "resume-demo.db") }), {
  maxConcurrentTaskExecutions: 2,
  leaseLeewayMs: 1_000,
  pollIntervalMs: 250
})

const step = executor.task({
  id: "demo.step",
  timeoutMs: 2_000,
  retryOptions: { maxAttempts: 3 },
  run: async (ctx, n: number) => {
    await new Promise((resolve) => setTimeout(resolve, 500))
    console.log(
      `  step ${String(n).padStart(2)} done by process ${process.pid}${
        ctx.attempt > 0 ? ` (attempt ${ctx.attempt + 1})` : ""
      }`
    )
    return n * n
  }
})

const job = executor.parentTask({
  id: "demo.job",
  timeoutMs: 5_000,
  runParent: (_ctx, input: { readonly steps: number }) => ({
    output: `job of ${input.steps} steps`,
    childrenTasks: Array.from({ length: input.steps }, (_, n) => ({ task: step, input: n + 1 }))
  }),
  finalizeTask: {
    id: "demo.sum",
    timeoutMs: 2_000,
    run: (_ctx, input: { childrenTasksOutputs: ReadonlyArray<{ output?: unknown }> }) =>
      input.childrenTasksOutputs.reduce((sum, c) => sum + Number(c.output), 0)
  }
})

const main = async () => {
  await executor.start()
  let handle
  if (fs.existsSync(idFile)) {
    const executionId = fs.readFileSync(idFile, "utf8").trim()
    handle = await executor.getTaskHandle(job, executionId)
    const execution = await handle.getExecution()
    console.log(
      `process ${process.pid}: resuming ${executionId} (status ${execution.status}, ` +
        `${execution.completedChildrenTaskExecutions ?? 0} of 12 steps done)`
    )
  } else {
    handle = await executor.enqueueTask(job, { steps: 12 })
    fs.writeFileSync(idFile, handle.getExecutionId())
    console.log(`process ${process.pid}: started ${handle.getExecutionId()}`)
  }
  if (crashAfterMs !== undefined) {
    setTimeout(() => {
      console.log(`process ${process.pid}: SIGKILL now (run me again to resume)`)
      process.kill(process.pid, "SIGKILL")
    }, crashAfterMs)
  }
  const done = await handle.waitAndGetExecution()
  console.log(`process ${process.pid}: ${done.status}, sum of squares 1..12 = ${String(done.output)} (expected 650)`)
  fs.rmSync(idFile)
  await executor.shutdown()
}

await main()
