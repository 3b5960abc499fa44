/**
 * Shutdown settles everything: a wait pending when `shutdown()` runs, and every call made after it,
 * settle with the facade's own DurableExecutorShutdownError (never an Effect message such as
 * "ManagedRuntime disposed"), on every storage; and a process whose waits were pending exits on its
 * own once its executor is shut down.
 */
import { spawn } from "node:child_process"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import type { DurableExecutionError } from "../src/index.js"
import {
  createInMemoryStorage,
  createPostgresStorage,
  createSqliteStorage,
  DurableExecutor,
  DurableExecutorShutdownError,
  type DurableStorage,
  type DurableTaskBuilder,
  type DurableTaskHandle
} from "../src/index.js"
import { databaseUrl, dropSchemas, tempDir, uniqueName } from "./support/sql.js"

const schemas: Array<string> = []
const dirs: Array<() => void> = []
afterAll(async () => {
  dirs.forEach((remove) => remove())
  await dropSchemas(schemas)
})

const storages: ReadonlyArray<readonly [string, () => DurableStorage]> = [
  ["memory", () => createInMemoryStorage()],
  ["sqlite", () => {
    const { dir, remove } = tempDir()
    dirs.push(remove)
    return createSqliteStorage({ filename: path.join(dir, "shutdown.db") })
  }],
  ["postgres", () => {
    const schema = uniqueName("sd")
    schemas.push(schema)
    return createPostgresStorage({ connectionString: databaseUrl(), schema })
  }]
]

/**
 * How a call ended: a value, or the error. The call is made at once (synchronously); a call that has
 * not settled after `boundMs` fails the test as hung.
 */
const outcomeOf = async (
  call: () => unknown,
  boundMs = 10_000
): Promise<{ readonly value?: unknown; readonly error?: Error }> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`HUNG: not settled within ${boundMs} ms`)), boundMs)
  })
  try {
    let result: unknown
    try {
      result = call()
    } catch (e) {
      result = Promise.reject(e)
    }
    return { value: await Promise.race([result, hung]) }
  } catch (e) {
    if (e instanceof Error && e.message.startsWith("HUNG")) throw e
    return { error: e as Error }
  } finally {
    clearTimeout(timer)
  }
}

/** The call rejected with the facade's shutdown error, and its message shows no Effect internals. */
const expectShutdownError = (name: string, outcome: { readonly value?: unknown; readonly error?: Error }) => {
  expect(outcome.error, `${name} should reject`).toBeInstanceOf(DurableExecutorShutdownError)
  expect(outcome.error?.message, name).not.toMatch(/ManagedRuntime|Fiber|disposed|Effect/)
  expect((outcome.error as DurableExecutionError).isRetryable, name).toBe(false)
}

describe.each(storages)("shutdown on %s", (_name, makeStorage) => {
  it("a wait pending when shutdown runs rejects with DurableExecutorShutdownError", async () => {
    const executor = new DurableExecutor(makeStorage(), { logLevel: "none" })
    const task = executor.task({ id: "never-due", timeoutMs: 1_000, run: () => "ran" })
    await executor.start()
    const handle = await executor.enqueueTask(task, undefined, { sleepMsBeforeRun: 3_600_000 })
    const pending = outcomeOf(() => handle.waitAndGetExecution({ pollingIntervalMs: 3_600_000 }))
    const pendingDefault = outcomeOf(() => handle.waitAndGetExecution())
    await executor.shutdown()
    for (
      const [name, outcome] of [["wait", await pending], ["wait with default polling", await pendingDefault]] as const
    ) {
      expectShutdownError(name, outcome)
      expect(outcome.error?.message).toBe(
        `the durable executor shut down before task execution ${handle.getExecutionId()} finished`
      )
    }
  })

  it("a wait whose execution finishes while running tasks drain gets the execution", async () => {
    const executor = new DurableExecutor(makeStorage(), { logLevel: "none" })
    let started = false
    const task = executor.task({
      id: "drains",
      timeoutMs: 10_000,
      run: (ctx) => {
        started = true
        return new Promise<string>((resolve) => ctx.shutdownSignal.addEventListener("abort", () => resolve("drained")))
      }
    })
    await executor.start()
    const handle = await executor.enqueueTask(task)
    const waiting = outcomeOf(() => handle.waitAndGetExecution())
    while (!started) await new Promise((resolve) => setTimeout(resolve, 5))
    await executor.shutdown()
    const outcome = await waiting
    expect(outcome.error).toBeUndefined()
    expect(outcome.value).toMatchObject({ status: "completed", output: "drained" })
  })

  it("every public method after shutdown settles with the facade's error, or works where that is right", async () => {
    const executor = new DurableExecutor(makeStorage(), { logLevel: "none" })
    const task = executor.task({ id: "t", timeoutMs: 1_000, run: (_ctx, n: number) => n })
    const builder = executor.validateInput((n: number) => n)
    await executor.start()
    const handle = await executor.enqueueTask(task, 1)
    await handle.waitAndGetExecution()
    await executor.shutdown()

    // Each table is typed by the public keys of its object, so a public member added later without an
    // entry here fails the type-check. "works": the call must succeed; "refuses": it must reject with
    // DurableExecutorShutdownError.
    type Expectation = readonly ["works" | "refuses", () => unknown]
    const executorMembers: { readonly [K in keyof DurableExecutor]: Expectation } = {
      // Defining tasks touches no storage: it still works (a module may define tasks at import time).
      task: ["works", () => executor.task({ id: "defined-after", timeoutMs: 1_000, run: () => 1 })],
      parentTask: [
        "works",
        () => executor.parentTask({ id: "parent-after", timeoutMs: 1_000, runParent: () => ({ output: 1 }) })
      ],
      validateInput: ["works", () => executor.validateInput((x: number) => x)],
      inputSchema: [
        "works",
        () => executor.inputSchema({ "~standard": { version: 1, vendor: "x", validate: (value) => ({ value }) } })
      ],
      sequentialTasks: ["works", () => executor.sequentialTasks(task)],
      enqueueTask: ["refuses", () => executor.enqueueTask(task, 2)],
      enqueueTasks: ["refuses", () => executor.enqueueTasks(task, [2, 3])],
      getTaskHandle: ["refuses", () => executor.getTaskHandle(task, handle.getExecutionId())],
      start: ["refuses", () => executor.start()],
      listExecutions: ["refuses", () => executor.listExecutions()],
      countExecutions: ["refuses", () => executor.countExecutions({ by: "status" })],
      getExecutionTree: ["refuses", () => executor.getExecutionTree(handle.getExecutionId())],
      purgeExecutions: ["refuses", () => executor.purgeExecutions({ finishedBefore: 0 })],
      // A second shutdown resolves: shutdown is idempotent.
      shutdown: ["works", () => executor.shutdown()],
      schedule: ["refuses", () => executor.schedule({ id: "s", cron: "* * * * *", task, input: 1 })],
      listSchedules: ["refuses", () => executor.listSchedules()],
      pauseSchedule: ["refuses", () => executor.pauseSchedule("s")],
      resumeSchedule: ["refuses", () => executor.resumeSchedule("s")],
      deleteSchedule: ["refuses", () => executor.deleteSchedule("s")],
      retryExecution: ["refuses", () => executor.retryExecution(handle.getExecutionId())],
      retryExecutions: ["refuses", () => executor.retryExecutions()],
      cancelExecutions: ["refuses", () => executor.cancelExecutions()]
    }
    const handleMembers: { readonly [K in keyof DurableTaskHandle<number>]: Expectation } = {
      getTaskId: ["works", () => handle.getTaskId()],
      getExecutionId: ["works", () => handle.getExecutionId()],
      getExecution: ["refuses", () => handle.getExecution()],
      waitAndGetExecution: ["refuses", () => handle.waitAndGetExecution()],
      cancel: ["refuses", () => handle.cancel()]
    }
    const builderMembers: { readonly [K in keyof DurableTaskBuilder<number, number>]: Expectation } = {
      task: ["works", () => builder.task({ id: "built-after", timeoutMs: 1_000, run: (_ctx, n) => n })],
      parentTask: [
        "works",
        () =>
          builder.parentTask({ id: "built-parent-after", timeoutMs: 1_000, runParent: (_ctx, n) => ({ output: n }) })
      ]
    }
    const tables = { executor: executorMembers, handle: handleMembers, builder: builderMembers }
    const objects = { executor, handle, builder }
    for (const [object, members] of Object.entries(tables)) {
      for (const [name, [expected, call]] of Object.entries(members as Record<string, Expectation>)) {
        const label = `${object}.${name}`
        expect(typeof (objects[object as keyof typeof objects] as unknown as Record<string, unknown>)[name], label)
          .toBe("function")
        const outcome = await outcomeOf(call)
        if (expected === "refuses") expectShutdownError(label, outcome)
        else expect(outcome.error, `${label} should work after shutdown`).toBeUndefined()
      }
    }
    // Every public method of the class is in the table (the type-check guarantees the converse).
    const isPrivate = new Set([
      "exec",
      "run",
      "errorOf",
      "client",
      "waits",
      "getExecution",
      "wait",
      "cancelExecution",
      "onClient",
      "register",
      "define",
      "builder",
      "stop",
      "scheduling",
      "ops",
      "redrive"
    ])
    // With the inherited ones (the retry and redrive methods, the schedule methods).
    const redrive = Object.getPrototypeOf(DurableExecutor.prototype)
    const methods = [DurableExecutor.prototype, redrive, Object.getPrototypeOf(redrive)].flatMap((p) =>
      Object.getOwnPropertyNames(p).filter((n) => n !== "constructor" && !isPrivate.has(n))
    )
    expect(methods.sort()).toEqual(Object.keys(executorMembers).sort())
  })

  it("calls in flight when shutdown starts settle with their result or the shutdown error", async () => {
    const executor = new DurableExecutor(makeStorage(), { logLevel: "none" })
    const task = executor.task({ id: "t", timeoutMs: 1_000, run: (_ctx, n: number) => n })
    await executor.start()
    const handle = await executor.enqueueTask(task, 1)
    const calls = [
      () => handle.getExecution(),
      () => handle.waitAndGetExecution(),
      () => handle.cancel(),
      () => executor.getTaskHandle(task, handle.getExecutionId()),
      () => executor.enqueueTask(task, 2),
      () => executor.enqueueTasks(task, [3, 4])
    ]
    const outcomes = [...calls.map((call) => outcomeOf(call)), outcomeOf(() => executor.shutdown())]
    const later = calls.map((call) => outcomeOf(call))
    for (const [i, outcome] of (await Promise.all(outcomes)).entries()) {
      if (outcome.error !== undefined) expectShutdownError(`call ${i}`, outcome)
    }
    for (const [i, outcome] of (await Promise.all(later)).entries()) {
      expectShutdownError(`call ${i} after shutdown`, outcome)
    }
  })
})

describe("a process with pending waits", () => {
  const script = path.resolve(import.meta.dirname, "shutdown/pending-wait.ts")

  /** Runs the script; resolves with its output and exit code, or with `hung` when it is still alive after `boundMs`. */
  const runScript = (env: Record<string, string>, boundMs: number) =>
    new Promise<{ readonly code: number | null; readonly out: string; readonly hung: boolean }>((resolve) => {
      const child = spawn(process.execPath, ["--import", "tsx", script], {
        cwd: path.resolve(import.meta.dirname, ".."),
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let out = ""
      child.stdout.on("data", (d) => (out += String(d)))
      child.stderr.on("data", (d) => (out += String(d)))
      const timer = setTimeout(() => {
        child.kill("SIGKILL")
        resolve({ code: null, out, hung: true })
      }, boundMs)
      child.on("exit", (code) => {
        clearTimeout(timer)
        resolve({ code, out, hung: false })
      })
    })

  it.each(["memory", "sqlite", "pg"])("exits on its own after shutdown (%s)", async (kind) => {
    const env: Record<string, string> = { SHUTDOWN_STORAGE: kind }
    if (kind === "sqlite") {
      const { dir, remove } = tempDir()
      dirs.push(remove)
      env.SHUTDOWN_SQLITE_FILE = path.join(dir, "child.db")
    }
    if (kind === "pg") {
      env.DATABASE_URL = databaseUrl()
      env.SHUTDOWN_PG_SCHEMA = uniqueName("sdc")
      schemas.push(env.SHUTDOWN_PG_SCHEMA)
    }
    // The bound only tells a hang (a poll timer of an hour, or a wait that never settles) from an
    // exit; it is far above the child's start-up time, even on a loaded machine.
    const result = await runScript(env, 45_000)
    expect(result.hung, `the process was still alive after 45 s:\n${result.out}`).toBe(false)
    expect(result.code, result.out).toBe(0)
    const report = JSON.parse(result.out.trim().split("\n").at(-2)!) as {
      outcome: ReadonlyArray<{ status?: string; output?: unknown; error?: string; message?: string }>
      activeResources: ReadonlyArray<string>
    }
    expect(report.outcome[0]).toEqual({ status: "completed", output: "drained" })
    for (const wait of report.outcome.slice(1)) {
      expect(wait.error).toBe("DurableExecutorShutdownError")
      expect(wait.message).toMatch(/^the durable executor shut down before task execution te_\w+ finished$/)
    }
    // Right after shutdown no timer is left, and nothing but the child's stdout and stderr pipes. On
    // Postgres the pool's sockets may still be closing, with the driver's own short timers (seen in
    // about one run in three): they end by themselves, as the exit within the bound above shows (an
    // hour-long poll timer left behind would keep the process alive and fail that check).
    const closing = kind === "pg" ? ["PipeWrap", "TCPSocketWrap", "Timeout"] : ["PipeWrap"]
    expect(report.activeResources.filter((r) => !closing.includes(r))).toEqual([])
  }, 60_000)
})
