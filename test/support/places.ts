/**
 * A storage place for facade tests that open it more than once: memory (one storage, shared), a
 * SQLite file or a Postgres schema, each opened as often as the test asks (a new storage, with its
 * own connections, on the same data: as a second process would).
 */
import * as Effect from "effect/Effect"
import * as path from "node:path"
import type { ExecutionRow } from "../../src/ExecutionRow.js"
import {
  createInMemoryStorage,
  createPostgresStorage,
  createSqliteStorage,
  DurableExecutor,
  type DurableExecutorOptions,
  type DurableStorage
} from "../../src/index.js"
import { TaskStorage } from "../../src/TaskStorage.js"
import { databaseUrl, dropSchemas, tempDir, uniqueName } from "./sql.js"

/** One place where executions are stored. */
export interface Place {
  /** A storage on the place: a new one (own connections) each call, except for memory. */
  readonly open: () => DurableStorage
  readonly shared: boolean
  readonly cleanup: () => Promise<void>
}

/** The places by storage name; each call makes a fresh, empty one. */
export const places: ReadonlyArray<readonly [string, () => Place]> = [
  ["memory", () => {
    const storage = createInMemoryStorage()
    return { open: () => storage, shared: true, cleanup: async () => {} }
  }],
  ["SQLite", () => {
    const tmp = tempDir()
    const filename = path.join(tmp.dir, "place.db")
    return { open: () => createSqliteStorage({ filename }), shared: false, cleanup: async () => tmp.remove() }
  }],
  ["Postgres", () => {
    const schema = uniqueName("place")
    return {
      open: () => createPostgresStorage({ connectionString: databaseUrl(), schema, maxConnections: 4 }),
      shared: false,
      cleanup: () => dropSchemas([schema])
    }
  }]
]

/** Every stored row of `storage`. */
export const rowsOf = (storage: DurableStorage): Promise<ReadonlyArray<ExecutionRow>> =>
  Effect.runPromise(
    Effect.flatMap(TaskStorage, (port) => port.list({ limit: 100_000 })).pipe(Effect.provide(storage.layer))
  ) as Promise<ReadonlyArray<ExecutionRow>>

/** Runs `body` with a fresh place; shuts down the executors it made and removes the place after. */
export const withPlace = async (
  makePlace: () => Place,
  body: (
    place: Place,
    executor: (storage: DurableStorage, options?: DurableExecutorOptions) => Promise<DurableExecutor>
  ) => Promise<void>
): Promise<void> => {
  const place = makePlace()
  const executors: Array<DurableExecutor> = []
  try {
    await body(place, async (storage, options = {}) => {
      const ex = new DurableExecutor(storage, { logLevel: "none", pollIntervalMs: 50, ...options })
      executors.push(ex)
      await ex.start()
      return ex
    })
  } finally {
    for (const ex of executors) await ex.shutdown()
    await place.cleanup()
  }
}
