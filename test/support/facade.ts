/**
 * Helpers for tests of the Promise facade: a fresh executor on a fresh storage per test, and a
 * storage whose port the test can read to check that nothing was stored.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { ExecutionRow } from "../../src/ExecutionRow.js"
import { DurableExecutor, type DurableExecutorOptions, type DurableStorage, type DurableTask } from "../../src/index.js"
import * as MemoryStorage from "../../src/MemoryStorage.js"
import { Signals } from "../../src/Signals.js"
import * as SignalsModule from "../../src/Signals.js"
import { TaskStorage } from "../../src/TaskStorage.js"

/** An in-memory storage for the facade whose rows the test can list. */
export const inspectableStorage = (): {
  readonly storage: DurableStorage
  readonly rows: () => ReadonlyArray<ExecutionRow>
} => {
  const port = MemoryStorage.makeSync()
  const signals = SignalsModule.makeHub().service
  return {
    storage: { kind: "memory", layer: Layer.merge(Layer.succeed(TaskStorage, port), Layer.succeed(Signals, signals)) },
    rows: () => Effect.runSync(port.list({ limit: 100_000 }))
  }
}

/** Runs `body` with a started executor on a fresh storage, and shuts it down afterwards. */
export const withExecutor = async <A>(
  body: (executor: DurableExecutor, rows: () => ReadonlyArray<ExecutionRow>) => Promise<A>,
  options: DurableExecutorOptions = {}
): Promise<A> => {
  const { rows, storage } = inspectableStorage()
  const executor = new DurableExecutor(storage, { logLevel: "none", ...options })
  await executor.start()
  try {
    return await body(executor, rows)
  } finally {
    await executor.shutdown()
  }
}

/** Enqueues `task` with `input`, waits for it to finish, and returns the finished execution. */
export const runToEnd = async <I, O>(executor: DurableExecutor, task: DurableTask<I, O>, input: I) => {
  const handle = await executor.enqueueTask(task, input)
  return await handle.waitAndGetExecution()
}

/** Re-exported so that facade tests import their helpers from one module. */
export { eventually, sleep } from "./wait.js"
