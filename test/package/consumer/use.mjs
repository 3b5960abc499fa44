// Runs in a fresh folder where the packed durable-tasks was installed: imports all four entry points
// as an ES module app would, runs one task on memory storage and one on a SQLite file (Promise
// facade), one on the Effect API, one simulation seed on SQLite, and prints what it saw as JSON (and
// the SQLite file, for the `durable-tasks` bin to read).
import { createInMemoryStorage, createSqliteStorage, DurableExecutor } from "durable-tasks"
import { DurableExecutor as EffectExecutor, Task } from "durable-tasks/effect"
import { Simulation, SqliteFile } from "durable-tasks/simulation"
import { StorageConformance } from "durable-tasks/testing"
import * as Effect from "effect/Effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const runOn = async (storage) => {
  const executor = new DurableExecutor(storage)
  const greet = executor.task({ id: "greet", timeoutMs: 5_000, run: async (_ctx, input) => `Hello, ${input.name}!` })
  await executor.start()
  try {
    const handle = await executor.enqueueTask(greet, { name: "world" })
    const execution = await handle.waitAndGetExecution()
    return { status: execution.status, output: execution.output }
  } finally {
    await executor.shutdown()
  }
}

const dir = mkdtempSync(join(tmpdir(), "durable-tasks-consumer-"))
const double = Task.make({ id: "double", timeoutMs: 1_000, run: (n) => Effect.succeed(n * 2) })
const effectOutput = await Effect.runPromise(Effect.scoped(
  Effect.gen(function*() {
    const executor = yield* EffectExecutor.DurableExecutor
    return (yield* executor.wait(yield* executor.enqueue(double, 21))).output
  }).pipe(Effect.provide(EffectExecutor.layerMemory({ tasks: [double] })))
))
const report = Simulation.run({
  seed: 1,
  tasks: [double],
  enqueues: [{ atMs: 0, task: double, input: 2 }],
  faults: "none",
  backend: SqliteFile.backend(join(dir, "sim.db"))
})

console.log(JSON.stringify({
  memory: await runOn(createInMemoryStorage()),
  sqlite: await runOn(createSqliteStorage({ filename: join(dir, "app.db") })),
  effect: effectOutput,
  simulation: { ok: report.ok, output: report.outcome?.roots[0]?.execution?.output },
  conformance: typeof StorageConformance.check,
  sqliteFile: join(dir, "app.db")
}))
