/**
 * SQLite storage errors name the problem, and waiting for another process's write lock does not
 * block the event loop: real files (made read-only for real, as root too), and a real second
 * process holding `BEGIN IMMEDIATE` (test/storage-errors/lockHolder.mjs).
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { type ChildProcess, execFileSync, fork } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterEach, describe, expect, it } from "vitest"
import { StorageError } from "../src/EngineError.js"
import {
  createSqliteStorage,
  DurableExecutor,
  DurableExecutorOptionsError,
  DurableStorageError,
  type DurableTask
} from "../src/index.js"
import * as SqliteStorage from "../src/SqliteStorage.js"
import { TaskStorage } from "../src/TaskStorage.js"
import { tempDir } from "./support/sql.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const cleanups: Array<() => void | Promise<void>> = []
afterEach(async () => {
  const failures: Array<unknown> = []
  for (const cleanup of cleanups.splice(0).reverse()) {
    await Promise.resolve().then(cleanup).catch((e) => failures.push(e))
  }
  if (failures.length > 0) throw failures[0]
})

const scratch = (): string => {
  const tmp = tempDir()
  cleanups.push(tmp.remove)
  return tmp.dir
}

/**
 * Makes `target` read-only for this process: mode bits, and for root (whom mode bits do not stop)
 * the immutable attribute. Checks that writing is really refused.
 */
const makeReadOnly = (target: string): void => {
  const isDir = fs.statSync(target).isDirectory()
  fs.chmodSync(target, isDir ? 0o555 : 0o444)
  cleanups.push(() => fs.chmodSync(target, isDir ? 0o755 : 0o644))
  if (process.getuid?.() === 0) {
    execFileSync("chattr", ["+i", target])
    cleanups.push(() => void execFileSync("chattr", ["-i", target]))
  }
  expect(() => fs.accessSync(target, fs.constants.W_OK), `${target} must be read-only for the test`).toThrow()
}

const makeDatabase = async (filename: string): Promise<void> => {
  const executor = new DurableExecutor(createSqliteStorage({ filename }), { logLevel: "none" })
  await executor.start()
  await executor.shutdown()
}

const defineTask = (executor: DurableExecutor): DurableTask<number, number> =>
  executor.task({ id: "double", timeoutMs: 5_000, run: (_ctx, n: number) => n * 2 })

/** What start() and an enqueueTask before start() reject with, on a fresh executor each. */
const failuresOf = async (filename: string): Promise<Array<unknown>> => {
  const errors: Array<unknown> = []
  for (const call of ["start", "enqueueTask"] as const) {
    const executor = new DurableExecutor(createSqliteStorage({ filename }), { logLevel: "none" })
    const task = defineTask(executor)
    errors.push(
      await (call === "start" ? executor.start() : executor.enqueueTask(task, 1)).then(() => undefined, (e) => e)
    )
    await executor.shutdown()
  }
  return errors
}

const expectStorageError = (error: unknown, ...fragments: Array<string | RegExp>): void => {
  expect(error).toBeInstanceOf(DurableStorageError)
  const message = (error as Error).message
  for (const fragment of fragments) expect(message).toMatch(fragment)
  expect(message).not.toMatch(/SqliteError|FiberFailure|Effect/)
}

describe("SQLite open failures are DurableStorageErrors naming the file and the cause", () => {
  it("a file that is not a database", async () => {
    const filename = path.join(scratch(), "notes.db")
    fs.writeFileSync(filename, "these are my notes, not a database. ".repeat(50))
    for (const error of await failuresOf(filename)) {
      expectStorageError(error, filename, /not a database/, /SQLITE_NOTADB/)
    }
  })

  it("a read-only database file", async () => {
    const filename = path.join(scratch(), "app.db")
    await makeDatabase(filename)
    makeReadOnly(filename)
    for (const error of await failuresOf(filename)) expectStorageError(error, filename, /read-only/)
  })

  it("a new file in a read-only folder", async () => {
    const folder = path.join(scratch(), "locked")
    fs.mkdirSync(folder)
    makeReadOnly(folder)
    const filename = path.join(folder, "app.db")
    for (const error of await failuresOf(filename)) expectStorageError(error, filename, /folder .* is read-only/)
    expect(fs.existsSync(filename)).toBe(false)
  })

  it("a directory given as the filename", async () => {
    const folder = scratch()
    for (const error of await failuresOf(folder)) expectStorageError(error, folder, /is a directory/)
  })

  it("a path whose folder cannot be created (a file is in the way)", async () => {
    const dir = scratch()
    fs.writeFileSync(path.join(dir, "data"), "a file")
    const filename = path.join(dir, "data", "app.db")
    for (const error of await failuresOf(filename)) expectStorageError(error, filename, /cannot create its folder/)
  })

  it("file: URIs are refused at creation with a clear message, and nothing is created", () => {
    const dir = scratch()
    const uri = `file:${path.join(dir, "app.db")}?mode=rwc`
    expect(() => createSqliteStorage({ filename: uri })).toThrow(DurableExecutorOptionsError)
    expect(() => createSqliteStorage({ filename: uri })).toThrow(/not a file: URI/)
    expect(() => createSqliteStorage({ filename: "FILE:///tmp/x.db" })).toThrow(/fileURLToPath/)
    expect(fs.readdirSync(dir)).toEqual([])
  })

  it("a misspelt option is named with the nearest valid one", () => {
    expect(() => createSqliteStorage({ filname: "x.db" } as never)).toThrow(
      /unknown option 'filname' \(did you mean 'filename'\?\)/
    )
    expect(() => createSqliteStorage({ filename: "x.db", busyTimeoutMs: "100" } as never)).toThrow(
      /busyTimeoutMs must be an integer from 0 to 3600000, got string "100"/
    )
  })

  it("Effect API: the layer fails with a typed StorageError naming the file", async () => {
    const filename = path.join(scratch(), "notes.db")
    fs.writeFileSync(filename, "not a database ".repeat(100))
    const exit = await Effect.runPromiseExit(Effect.provide(TaskStorage, SqliteStorage.layer({ filename })))
    expect(Exit.isFailure(exit)).toBe(true)
    const error = Exit.isFailure(exit) ? exit.cause : undefined
    expect(error?._tag).toBe("Fail")
    const failure = error?._tag === "Fail" ? error.error : undefined
    expect(failure).toBeInstanceOf(StorageError)
    expect(failure?.message).toContain(filename)
    expect(failure?.message).toContain("SQLITE_NOTADB")
  })
})

/** A child process holding the file's write lock until `release()` (or `maxHoldMs`). */
const holdWriteLock = async (filename: string, maxHoldMs = 20_000) => {
  const child: ChildProcess = fork(path.join(here, "storage-errors", "lockHolder.mjs"), [filename, String(maxHoldMs)], {
    stdio: ["ignore", "inherit", "inherit", "ipc"]
  })
  const released = new Promise<void>((resolve) => child.on("exit", () => resolve()))
  cleanups.push(() => {
    child.kill("SIGKILL")
    return released
  })
  await new Promise<void>((resolve, reject) => {
    child.once("error", reject)
    child.once("exit", (code) => reject(new Error(`lock holder exited with ${String(code)}`)))
    child.on("message", (m) => m === "locked" && resolve())
  })
  return {
    release: () => {
      child.send("release")
      return released
    }
  }
}

/** Resolves with "timer" when a 100 ms timer fires before `promise` settles, else with "promise". */
const timerFiresFirst = (promise: Promise<unknown>): Promise<"timer" | "promise"> =>
  Promise.race([
    promise.then(() => "promise" as const, () => "promise" as const),
    new Promise<"timer">((resolve) => setTimeout(() => resolve("timer"), 100))
  ])

/** A started executor on a fresh file, and another process holding that file's write lock. */
const startedExecutorOnLockedFile = async (busyTimeoutMs: number) => {
  const filename = path.join(scratch(), "app.db")
  const executor = new DurableExecutor(createSqliteStorage({ filename, busyTimeoutMs }), { logLevel: "none" })
  cleanups.push(() => executor.shutdown())
  const task = defineTask(executor)
  await executor.start()
  return { filename, executor, task, lock: await holdWriteLock(filename) }
}

describe("waiting for another process's write lock", () => {
  it("an enqueue waits for the lock without blocking the event loop, then succeeds", async () => {
    const { executor, lock, task } = await startedExecutorOnLockedFile(20_000)
    const enqueued = executor.enqueueTask(task, 21)
    // Timers fire while the enqueue waits (better-sqlite3's own busy wait would hold the thread).
    expect(await timerFiresFirst(enqueued)).toBe("timer")
    expect(await timerFiresFirst(enqueued)).toBe("timer")
    await lock.release()
    const execution = await (await enqueued).waitAndGetExecution()
    expect(execution.status).toBe("completed")
    expect(execution.output).toBe(42)
  })

  it("start() on a locked file (WAL switch, migrations) waits without blocking, then resolves", async () => {
    const filename = path.join(scratch(), "app.db")
    await makeDatabase(filename)
    const lock = await holdWriteLock(filename)
    const executor = new DurableExecutor(createSqliteStorage({ filename }), { logLevel: "none" })
    cleanups.push(() => executor.shutdown())
    const task = defineTask(executor)
    const started = executor.start()
    expect(await timerFiresFirst(started)).toBe("timer")
    await lock.release()
    await started
    expect((await (await executor.enqueueTask(task, 2)).waitAndGetExecution()).output).toBe(4)
  })

  it("after busyTimeoutMs the call rejects with a DurableStorageError naming the file and the timeout", async () => {
    const { executor, filename, lock, task } = await startedExecutorOnLockedFile(300)
    const error = await executor.enqueueTask(task, 1).then(() => undefined, (e) => e)
    expectStorageError(error, filename, /locked by another process for longer than busyTimeoutMs \(300 ms\)/)
    expect((error as DurableStorageError).isRetryable).toBe(true)
    // Nothing was stored, and the storage works again once the lock is released.
    await lock.release()
    const handle = await executor.enqueueTask(task, 5)
    expect((await handle.waitAndGetExecution()).output).toBe(10)
  })

  it("Effect API: start-up on a file locked past busyTimeoutMs fails with a typed StorageError", async () => {
    const filename = path.join(scratch(), "app.db")
    await makeDatabase(filename)
    await holdWriteLock(filename)
    const exit = await Effect.runPromiseExit(
      Effect.scoped(Effect.provide(TaskStorage, SqliteStorage.layer({ filename, busyTimeoutMs: 200 })))
    )
    const failure = Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined
    expect(failure).toBeInstanceOf(StorageError)
    expect(failure?.message).toContain(filename)
    expect(failure?.message).toContain("busyTimeoutMs (200 ms)")
  })
})
