/**
 * Memory scenario, run in its own process with `--expose-gc` (bench/run.ts starts it): completes N
 * trivial executions in memory, then reports peak RSS and the heap still in use after a full GC while
 * the executor (and the storage holding every completed execution) is alive.
 *
 * Usage: node --expose-gc --import tsx bench/memoryProbe.ts <executions>
 */
import { engine } from "./engine.js"
import { enqueueAll, executorOptions, waitAll } from "./scenarios.js"
import { nowMs, sleep } from "./stats.js"

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error("run with --expose-gc")

const fullGc = async () => {
  for (let i = 0; i < 4; i++) {
    gc()
    await sleep(10)
  }
}

const total = Number(process.argv[2] ?? 100_000)
const batch = 10_000
const executor = new engine.DurableExecutor(engine.createInMemoryStorage(), executorOptions)
const trivial = executor.task({ id: "trivial", timeoutMs: 600_000, run: (_ctx, n: number) => n })
await executor.start()
await fullGc()
const heapBefore = process.memoryUsage().heapUsed
const t0 = nowMs()
for (let done = 0; done < total; done += batch) {
  const n = Math.min(batch, total - done)
  await waitAll(await enqueueAll(executor, trivial, Array.from({ length: n }, (_, i) => done + i), "batch"))
}
const wallMs = nowMs() - t0
await fullGc()
const heapAfter = process.memoryUsage().heapUsed
const peakRss = process.resourceUsage().maxRSS * 1024
await executor.shutdown()
process.stdout.write(JSON.stringify({ executions: total, wallMs, heapBefore, heapAfter, peakRss }) + "\n")
