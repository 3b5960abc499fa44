/**
 * Postgres storage errors name the problem: a connection string that is not a URL is refused at
 * creation; an executor started while the server is down waits for it (retries with backoff, each
 * logged) and starts once the server is up (a real embedded Postgres started after the executor);
 * the wait is bounded by `connectRetryMs`, then start() rejects with a storage error naming the server.
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Logger from "effect/Logger"
import { describe, expect, it } from "vitest"
import { StorageError } from "../src/EngineError.js"
import {
  createPostgresStorage,
  DurableExecutor,
  DurableExecutorOptionsError,
  DurableStorageError
} from "../src/index.js"
import * as PgStorage from "../src/PgStorage.js"
import { TaskStorage } from "../src/TaskStorage.js"
import { freePort, startEmbeddedPostgres } from "./support/embeddedPostgres.js"
import { databaseUrl } from "./support/sql.js"

describe("connection options are checked at creation", () => {
  it("a connection string that is not a postgres:// URL is refused with DurableExecutorOptionsError", () => {
    for (const bad of ["not a url", "localhost:5432", "host=localhost dbname=app"]) {
      expect(() => createPostgresStorage({ connectionString: bad })).toThrow(DurableExecutorOptionsError)
      expect(() => createPostgresStorage({ connectionString: bad })).toThrow(
        /connectionString is not a postgres:\/\/ URL.*give postgres:\/\/user:password@host:port\/database/
      )
    }
    expect(() => createPostgresStorage({ connectionString: "mysql://u:p@h/db" })).toThrow(/it starts with "mysql:"/)
    // The text of a bad connection string is not echoed: it may hold a password.
    const error = (() => {
      try {
        createPostgresStorage({ connectionString: "secret-password@@" })
      } catch (e) {
        return e as Error
      }
    })()
    expect(error).toBeInstanceOf(DurableExecutorOptionsError)
    expect(error?.message).not.toContain("secret-password")
    expect(() => createPostgresStorage({ connectionString: "postgresql://u:p@localhost:5432/app" })).not.toThrow()
  })

  it("other options: unknown keys with the nearest name, wrong types named", () => {
    expect(() => createPostgresStorage({ conectionString: "postgres://h/db" } as never)).toThrow(
      /unknown option 'conectionString' \(did you mean 'connectionString'\?\)/
    )
    expect(() => createPostgresStorage({ host: "h", port: "5432" } as never)).toThrow(
      /port must be an integer from 1 to 65535, got string "5432"/
    )
    expect(() => createPostgresStorage({ host: "h", connectRetryMs: -1 })).toThrow(
      /connectRetryMs must be an integer from 0/
    )
  })

  it("Effect API: the layer fails with a typed StorageError (configure)", async () => {
    const exit = await Effect.runPromiseExit(
      Effect.provide(TaskStorage, PgStorage.layer({ connectionString: "not a url" }))
    )
    const failure = Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined
    expect(failure).toBeInstanceOf(StorageError)
    expect(failure?.op).toBe("configure")
    expect(failure?.message).toMatch(/connectionString is not a postgres:\/\/ URL/)
  })
})

describe("start-up while the server is unreachable", () => {
  it("start() waits for a server that comes up later, then runs tasks", async () => {
    const port = await freePort()
    const url = `postgres://postgres:durable-tasks@127.0.0.1:${port}/postgres`
    const executor = new DurableExecutor(createPostgresStorage({ connectionString: url, connectRetryMs: 120_000 }), {
      logLevel: "none"
    })
    const task = executor.task({ id: "double", timeoutMs: 5_000, run: (_ctx, n: number) => n * 2 })
    let settled = false
    const started = executor.start().finally(() => (settled = true))
    const server = await startEmbeddedPostgres({ port })
    try {
      expect(settled).toBe(false) // it was still waiting while the server started
      await started
      const handle = await executor.enqueueTask(task, 21)
      expect((await handle.waitAndGetExecution()).output).toBe(42)
    } finally {
      await executor.shutdown()
      await server.stop()
    }
  }, 180_000)

  it(
    "the wait is bounded: after connectRetryMs start() rejects with a DurableStorageError naming the " +
      "server",
    async () => {
      const port = await freePort()
      const executor = new DurableExecutor(
        createPostgresStorage({ connectionString: `postgres://u:secret@127.0.0.1:${port}/app`, connectRetryMs: 800 }),
        { logLevel: "none" }
      )
      const task = executor.task({ id: "t", timeoutMs: 1_000, run: () => 1 })
      try {
        for (const call of [() => executor.start(), () => executor.enqueueTask(task, undefined as never)]) {
          const error = await call().then(() => undefined, (e) => e)
          expect(error).toBeInstanceOf(DurableStorageError)
          const message = (error as Error).message
          expect(message).toContain(`cannot connect to Postgres at 127.0.0.1:${port}/app`)
          expect(message).toContain("ECONNREFUSED")
          expect(message).toContain("connectRetryMs (800 ms)")
          expect(message).not.toContain("secret")
        }
      } finally {
        await executor.shutdown()
      }
    }
  )

  it("Effect API: each retry is logged as a warning, and the layer fails with StorageError (connect)", async () => {
    const port = await freePort()
    const logs: Array<string> = []
    const logger = Logger.make(({ logLevel, message }) => {
      logs.push(`${logLevel.label} ${Array.isArray(message) ? message.join(" ") : String(message)}`)
    })
    const exit = await Effect.runPromiseExit(
      Effect.provide(TaskStorage, PgStorage.layer({ host: "127.0.0.1", port, database: "app", connectRetryMs: 600 }))
        .pipe(
          Effect.provide(Logger.replace(Logger.defaultLogger, logger))
        )
    )
    const failure = Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined
    expect(failure).toBeInstanceOf(StorageError)
    expect(failure?.op).toBe("connect")
    expect(failure?.message).toContain(`127.0.0.1:${port}/app`)
    const retries = logs.filter((l) =>
      l.startsWith("WARN") && l.includes(`Postgres at 127.0.0.1:${port}/app is unreachable`)
    )
    expect(retries.length).toBeGreaterThanOrEqual(2)
    expect(retries[0]).toMatch(/ECONNREFUSED.*trying again in \d+ ms/)
  })

  it("a failure that waiting does not cure (a wrong password) fails at once, without retries", async () => {
    const wrong = new URL(databaseUrl())
    wrong.password = "wrong-password"
    const executor = new DurableExecutor(
      createPostgresStorage({ connectionString: wrong.href, connectRetryMs: 600_000 }),
      {
        logLevel: "none"
      }
    )
    const error = await executor.start().then(() => undefined, (e) => e)
    await executor.shutdown()
    expect(error).toBeInstanceOf(DurableStorageError)
    expect((error as Error).message).toMatch(/password authentication failed/)
    expect((error as Error).message).not.toMatch(/gave up|wrong-password/)
  })
})
