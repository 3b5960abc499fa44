/**
 * The test Postgres never outlives the process that started it: a child process starts an embedded
 * Postgres through `test/support/embeddedPostgres.ts`, then gets SIGTERM or SIGINT (as a test run
 * killed by a timeout does; the child answers them with `process.exit` at once, as vitest does),
 * calls `process.exit`, or dies of an uncaught exception; afterwards no
 * postgres process of that data folder remains, its port is closed and its folder is gone.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { isAlive } from "./support/embeddedPostgres.js"
import { eventually } from "./support/wait.js"

interface Started {
  readonly port: number
  readonly dataDir: string
  readonly pid: number
}

const portOpen = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect({ port, host: "127.0.0.1" })
    socket.once("connect", () => {
      socket.destroy()
      resolve(true)
    })
    socket.once("error", () => resolve(false))
  })

/** Any process whose command line names this data folder (the postmaster and its children). */
const processesOf = (dataDir: string): Array<number> =>
  fs.readdirSync("/proc").filter((name) => /^\d+$/.test(name)).flatMap((name) => {
    try {
      const cmdline = fs.readFileSync(path.join("/proc", name, "cmdline"), "utf8")
      return cmdline.includes(dataDir) ? [Number(name)] : []
    } catch {
      return []
    }
  })

/** Runs the child in `mode`; resolves once it printed its server, with its exit still to come. */
const startChild = (mode: "wait" | "exit" | "throw") => {
  const script = path.join(import.meta.dirname, "support/embeddedPostgresChild.ts")
  const child = spawn(process.execPath, ["--import", "tsx", script, mode], { stdio: ["ignore", "pipe", "pipe"] })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal }))
  )
  let stderr = ""
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
  const started = new Promise<Started>((resolve, reject) => {
    let out = ""
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString()
      const line = out.split("\n").find((l) => l.startsWith("{"))
      if (line !== undefined) resolve(JSON.parse(line) as Started)
    })
    void exited.then(() => reject(new Error(`child exited before starting Postgres: ${stderr}`)))
  })
  return { child, started, exited, stderr: () => stderr }
}

const expectGone = async (server: Started) => {
  await eventually(() => !isAlive(server.pid) && processesOf(server.dataDir).length === 0, {
    what: `postgres of ${server.dataDir} gone`,
    timeoutMs: 15_000,
    intervalMs: 50
  })
  expect(await portOpen(server.port)).toBe(false)
  expect(fs.existsSync(server.dataDir)).toBe(false)
}

describe.concurrent("embedded Postgres is stopped on every exit path", () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`when the process gets ${signal}`, async () => {
      const run = startChild("wait")
      const server = await run.started
      expect(isAlive(server.pid)).toBe(true)
      expect(await portOpen(server.port)).toBe(true)
      run.child.kill(signal)
      // Ended (by the signal, or with the code another listener chose), not still running.
      const exit = await run.exited
      expect(exit.signal !== null || exit.code !== 0).toBe(true)
      await expectGone(server)
    }, 60_000)
  }

  it("when the process calls process.exit", async () => {
    const run = startChild("exit")
    const server = await run.started
    expect((await run.exited).code).toBe(3)
    await expectGone(server)
  }, 60_000)

  it("when the process dies of an uncaught exception", async () => {
    const run = startChild("throw")
    const server = await run.started
    const exit = await run.exited
    expect(exit.code).toBe(1)
    expect(run.stderr()).toContain("uncaught in the child")
    await expectGone(server)
  }, 60_000)
})
