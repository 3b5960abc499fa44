/**
 * An executor process for the multi-process scenario (bench/run.ts starts two): it opens the shared
 * storage described in the DURABLE_TASKS_BENCH_STORAGE environment variable, registers the benchmark
 * tasks, starts, says "ready" over IPC and runs until it receives "stop".
 */
import { openShared, type SharedStorage } from "./backends.js"
import { engine } from "./engine.js"
import { defineMultiProcessTasks } from "./multiProcess.js"
import { executorOptions } from "./scenarios.js"

const shared = JSON.parse(process.env["DURABLE_TASKS_BENCH_STORAGE"] ?? "null") as SharedStorage | null
if (shared === null || process.send === undefined) throw new Error("bench/worker.ts is started by bench/run.ts")
const executor = new engine.DurableExecutor(await openShared(shared), executorOptions)
defineMultiProcessTasks(executor)
await executor.start()
process.on("message", (message) => {
  if (message !== "stop") return
  void executor.shutdown().then(() => process.exit(0), (error: unknown) => {
    console.error(error)
    process.exit(1)
  })
})
process.send("ready")
