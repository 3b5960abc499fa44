/**
 * For the dashboard's browser tests: an executor on a SQLite file running real tasks, a dashboard
 * served over its own storage on the same file (as `durable-tasks dashboard --db` would), the URL it
 * printed, and Debian's chromium driven by playwright-core.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as fs from "node:fs"
import * as path from "node:path"
import { type Browser, chromium } from "playwright-core"
import { serve, type ServeOptions } from "../../src/dashboard/Serve.js"
import * as DurableExecutor from "../../src/DurableExecutor.js"
import type { Signals } from "../../src/Signals.js"
import * as SqliteStorage from "../../src/SqliteStorage.js"
import type * as Task from "../../src/Task.js"
import type { TaskStorage } from "../../src/TaskStorage.js"

/** Where screenshots go (gitignored). */
export const SCREENSHOTS = path.resolve(".tmp/dashboard-screenshots")

/** The chromium binary: `CHROMIUM`, else Debian's. */
export const chromiumPath = process.env["CHROMIUM"] ?? "/usr/bin/chromium"

/** Launches chromium headless, never downloading one. */
export const launch = (): Promise<Browser> =>
  chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox"], headless: true })

/** An executor process's runtime on the file. */
export const executorRuntime = (filename: string, tasks: ReadonlyArray<Task.Task<any, any>>) =>
  ManagedRuntime.make(
    DurableExecutor.layer({ tasks, pollIntervalMs: 50 }).pipe(Layer.provideMerge(SqliteStorage.layer({ filename })))
  )

/** A running dashboard: the URL it printed (with its token), what it printed, and how to stop it. */
export interface Served {
  readonly url: string
  readonly lines: ReadonlyArray<string>
  readonly stop: () => Promise<void>
}

/** Serves a dashboard on the file (port 0: a free one) and waits for its printed URL. */
export const startDashboard = (filename: string, options: ServeOptions = {}): Promise<Served> =>
  startDashboardOn(SqliteStorage.layer({ filename }), options)

/** Serves a dashboard over a storage layer (port 0: a free one) and waits for its printed URL. */
export const startDashboardOn = async (
  storage: Layer.Layer<TaskStorage | Signals, unknown>,
  options: ServeOptions = {}
): Promise<Served> => {
  const lines: Array<string> = []
  const base = Effect.runSync(Console.consoleWith(Effect.succeed))
  const capture = (...args: ReadonlyArray<unknown>) => Effect.sync(() => void lines.push(args.join(" ")))
  const console: Console.Console = { ...base, log: capture, warn: capture }
  const fiber = Effect.runFork(
    serve({ port: 0, ...options }).pipe(
      Effect.provide(storage),
      Console.withConsole(console)
    )
  )
  for (let i = 0; i < 200; i++) {
    const line = lines.find((l) => l.startsWith("dashboard: http"))
    if (line !== undefined) {
      return {
        url: line.slice("dashboard: ".length),
        lines,
        stop: () => Effect.runPromise(Fiber.interrupt(fiber)).then(() => {})
      }
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`the dashboard printed no URL: ${lines.join("\n")}`)
}

/** Makes the screenshots directory. */
export const screenshotsDir = (): string => {
  fs.mkdirSync(SCREENSHOTS, { recursive: true })
  return SCREENSHOTS
}
