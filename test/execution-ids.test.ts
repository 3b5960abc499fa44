/**
 * An execution id that no storage can hold (a NUL, a lone surrogate, far too long) is not found, the
 * same in memory, SQLite and Postgres, through the facade and the Effect API: never a (retryable)
 * storage error. Valid but unknown ids are not found either, and a real execution still is found.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import * as DurableExecutorModule from "../src/DurableExecutor.js"
import { ExecutionNotFound } from "../src/EngineError.js"
import {
  createInMemoryStorage,
  createPostgresStorage,
  createSqliteStorage,
  DurableExecutionNotFoundError,
  DurableExecutor,
  type DurableStorage
} from "../src/index.js"
import { isStorableExecutionId, MAX_EXECUTION_ID_LENGTH } from "../src/internal/ExecutionIdGuard.js"
import * as MemoryStorage from "../src/MemoryStorage.js"
import * as PgStorage from "../src/PgStorage.js"
import * as Signals from "../src/Signals.js"
import * as SqliteStorage from "../src/SqliteStorage.js"
import * as Task from "../src/Task.js"
import type { TaskStorage } from "../src/TaskStorage.js"
import { databaseUrl, dropSchemas, tempDir, uniqueName } from "./support/sql.js"

const schemas: Array<string> = []
const tmp = tempDir()
afterAll(async () => {
  await dropSchemas(schemas)
  tmp.remove()
})

const unstorable: ReadonlyArray<readonly [string, string]> = [
  ["a NUL", "te_abc\u0000def"],
  ["only a NUL", "\u0000"],
  ["a lone high surrogate", "te_\uD800abc"],
  ["a lone low surrogate", "te_abc\uDC00"],
  ["a surrogate pair reversed", "te_\uDC00\uD800"],
  ["an over-long id", `te_${"x".repeat(MAX_EXECUTION_ID_LENGTH)}`]
]
// Valid text that no execution has: not found, without touching the rule above.
const unknownButValid = ["te_00000000000000000000", "te_ü😀 spaces and 'quotes'", "", "x".repeat(3_000)]

const storages: ReadonlyArray<{
  readonly name: string
  readonly facade: () => DurableStorage
  readonly layer: () => Layer.Layer<Signals.Signals | TaskStorage, unknown>
}> = [
  {
    name: "memory",
    facade: createInMemoryStorage,
    layer: () => Layer.merge(MemoryStorage.layer, Signals.layerMemory)
  },
  {
    name: "sqlite",
    facade: () => createSqliteStorage({ filename: path.join(tmp.dir, `${uniqueName("ids")}.db`) }),
    layer: () => SqliteStorage.layer({ filename: path.join(tmp.dir, `${uniqueName("ids")}.db`) })
  },
  {
    name: "postgres",
    facade: () => {
      const schema = uniqueName("ids")
      schemas.push(schema)
      return createPostgresStorage({ connectionString: databaseUrl(), schema, maxConnections: 2 })
    },
    layer: () => {
      const schema = uniqueName("ids")
      schemas.push(schema)
      return PgStorage.layer({ connectionString: databaseUrl(), schema, maxConnections: 2 })
    }
  }
]

describe("the id rule", () => {
  it("refuses only NUL, lone surrogates and over-long ids", () => {
    for (const [, id] of unstorable) expect(isStorableExecutionId(id)).toBe(false)
    for (const id of unknownButValid) expect(isStorableExecutionId(id)).toBe(true)
    expect(isStorableExecutionId("te_\uD83D\uDE00")).toBe(true)
    expect(isStorableExecutionId("x".repeat(MAX_EXECUTION_ID_LENGTH))).toBe(true)
  })
})

describe.each(storages)("ids no storage can hold are not found: $name", (storage) => {
  it("facade: getTaskHandle rejects with DurableExecutionNotFoundError, not a storage error", async () => {
    const executor = new DurableExecutor(storage.facade(), { logLevel: "none" })
    const task = executor.task({ id: "echo", timeoutMs: 5_000, run: (_ctx, n: number) => n })
    try {
      await executor.start()
      for (const [what, id] of unstorable) {
        const error = await executor.getTaskHandle(task, id).then(() => undefined, (e) => e)
        expect(error, what).toBeInstanceOf(DurableExecutionNotFoundError)
        expect((error as DurableExecutionNotFoundError).isRetryable, what).toBe(false)
      }
      for (const id of unknownButValid) {
        await expect(executor.getTaskHandle(task, id)).rejects.toBeInstanceOf(DurableExecutionNotFoundError)
      }
      // The storage still works, and a real id is found.
      const handle = await executor.enqueueTask(task, 7)
      expect((await handle.waitAndGetExecution()).output).toBe(7)
      const again = await executor.getTaskHandle(task, handle.getExecutionId())
      expect((await again.getExecution()).status).toBe("completed")
    } finally {
      await executor.shutdown()
    }
  })

  it("Effect API: get, wait and cancel fail with ExecutionNotFound", async () => {
    const echo = Task.make({ id: "echo", timeoutMs: 5_000, run: (n: number) => Effect.succeed(n) })
    const program = Effect.gen(function*() {
      const executor = yield* DurableExecutorModule.DurableExecutor
      for (const [what, id] of unstorable) {
        for (const call of [executor.get(id), executor.wait(id), executor.cancel(id)]) {
          const error = yield* Effect.flip(call)
          expect(error, what).toBeInstanceOf(ExecutionNotFound)
        }
      }
      const id = yield* executor.enqueue(echo, 3)
      expect((yield* executor.wait(id)).output).toBe(3)
    })
    await Effect.runPromise(
      program.pipe(Effect.provide(DurableExecutorModule.layer({ tasks: [echo] }).pipe(Layer.provide(storage.layer()))))
    )
  })
})
