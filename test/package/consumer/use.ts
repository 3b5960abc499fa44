// Type-checked by a strict NodeNext tsc without skipLibCheck: every entry point's declarations
// (and the declarations they pull in: effect, @effect/sql-pg and pg, better-sqlite3) must check.
import {
  createInMemoryStorage,
  createPostgresStorage,
  createSqliteStorage,
  DurableExecutor,
  type DurableStorage,
  type TaskStatus
} from "durable-tasks"
import { DurableExecutor as EffectExecutor, PgStorage, SqliteStorage, Task } from "durable-tasks/effect"
import { Simulation, SqliteFile } from "durable-tasks/simulation"
import { StorageConformance } from "durable-tasks/testing"
import * as Effect from "effect/Effect"

const storages: Array<DurableStorage> = [
  createInMemoryStorage(),
  createSqliteStorage({ filename: "app.db" }),
  createPostgresStorage({ connectionString: "postgres://localhost/app" })
]
const executor = new DurableExecutor(storages[0]!)
const greet = executor.task({ id: "greet", timeoutMs: 1_000, run: async (_ctx, input: { name: string }) => input.name })
export const status = async (): Promise<TaskStatus> =>
  (await (await executor.enqueueTask(greet, { name: "x" })).waitAndGetExecution()).status

const double = Task.make({ id: "double", timeoutMs: 1_000, run: (n: number) => Effect.succeed(n * 2) })
export const program = Effect.gen(function*() {
  const durable = yield* EffectExecutor.DurableExecutor
  const status: TaskStatus = (yield* durable.wait(yield* durable.enqueue(double, 21))).status
  return status
})
export const layers = [PgStorage.layer, SqliteStorage.layer, StorageConformance.check]
export const report: Simulation.Report = Simulation.run({
  seed: 1,
  tasks: [double],
  enqueues: [{ atMs: 0, task: double, input: 2 }],
  backend: SqliteFile.backend("sim.db")
})
