/**
 * The three storages the value tests run on (memory, a SQLite file, a Postgres schema), each with
 * access to its storage port, to read the stored rows and to insert rows the old way.
 */
import * as Effect from "effect/Effect"
import * as path from "node:path"
import { afterEach, beforeEach } from "vitest"
import type { ExecutionRow } from "../../src/ExecutionRow.js"
import {
  createInMemoryStorage,
  createPostgresStorage,
  createSqliteStorage,
  DurableExecutor,
  type DurableExecutorOptions,
  type DurableStorage,
  type DurableTask
} from "../../src/index.js"
import { TaskStorage } from "../../src/TaskStorage.js"
import { databaseUrl, dropSchemas, tempDir, uniqueName } from "../support/sql.js"

export interface TestStorage {
  readonly storage: DurableStorage
  /** Every stored row. */
  readonly rows: () => Promise<ReadonlyArray<ExecutionRow>>
  /** Inserts rows through the storage port, as the engine does. */
  readonly insert: (rows: ReadonlyArray<ExecutionRow>) => Promise<void>
  readonly cleanup: () => Promise<void>
}

const withPort = (storage: DurableStorage) => ({
  rows: () =>
    Effect.runPromise(
      Effect.flatMap(TaskStorage, (port) => port.list({ limit: 100_000 })).pipe(Effect.provide(storage.layer))
    ) as Promise<ReadonlyArray<ExecutionRow>>,
  insert: (rows: ReadonlyArray<ExecutionRow>) =>
    Effect.runPromise(
      Effect.flatMap(TaskStorage, (port) => Effect.asVoid(port.insert(rows))).pipe(Effect.provide(storage.layer))
    ) as Promise<void>
})

/** The storages by name; each call makes a fresh, empty one. */
export const storages: ReadonlyArray<readonly [string, () => TestStorage]> = [
  ["memory", () => {
    const storage = createInMemoryStorage()
    return { storage, ...withPort(storage), cleanup: async () => {} }
  }],
  ["SQLite", () => {
    const tmp = tempDir()
    const storage = createSqliteStorage({ filename: path.join(tmp.dir, "values.db") })
    return { storage, ...withPort(storage), cleanup: async () => tmp.remove() }
  }],
  ["Postgres", () => {
    const schema = uniqueName("values")
    const storage = createPostgresStorage({ connectionString: databaseUrl(), schema, maxConnections: 4 })
    return { storage, ...withPort(storage), cleanup: () => dropSchemas([schema]) }
  }]
]

/**
 * A fresh storage for each test of the enclosing `describe`, and executors on it, all shut down
 * (and the storage removed) after the test.
 */
export const useStorage = (makeStorage: () => TestStorage) => {
  let current: TestStorage | undefined
  const executors: Array<DurableExecutor> = []
  beforeEach(() => {
    current = makeStorage()
  })
  afterEach(async () => {
    for (const ex of executors.splice(0)) await ex.shutdown()
    await current?.cleanup()
  })
  const storage = (): TestStorage => current!
  /** An executor on the test's storage, started unless `start` is false. */
  const executor = async (options: DurableExecutorOptions = {}, start = true) => {
    const ex = new DurableExecutor(storage().storage, { logLevel: "none", pollIntervalMs: 50, ...options })
    executors.push(ex)
    if (start) await ex.start()
    return ex
  }
  /** Enqueues `input` and waits for its execution to finish. */
  const done = async <I, O>(ex: DurableExecutor, task: DurableTask<I, O>, input: I) =>
    (await ex.enqueueTask(task, input)).waitAndGetExecution({ pollingIntervalMs: 20 })
  return { storage, executor, done }
}
