/**
 * The built `durable-tasks` bin, run as a child process (`node <build>/src/cli/main.js …`) on a real
 * SQLite file and on the test Postgres, with executions a real executor made (test/cli/fixture.ts: a
 * failed order tree, a completed email, a delayed one). The sources are compiled once for this file
 * with the build's tsconfig, into a folder of its own (so that it never races the pack test's
 * `npm run build`, which empties dist/).
 */
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { useColor } from "../../src/cli/Output.js"
import { createPostgresStorage, createSqliteStorage } from "../../src/index.js"
import { databaseUrl, dropSchemas, tempDir, uniqueName } from "../support/sql.js"
import { fill, type Fixture } from "./fixture.js"

const root = path.resolve(import.meta.dirname, "../..")
const build = path.join(root, ".tmp", `cli-build-${process.pid}`)
const bin = path.join(build, "src/cli/main.js")
const tmp = tempDir()

/** The environment without the CLI's own variable and without colors forced either way. */
const env = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => key !== "DURABLE_TASKS_DB" && key !== "NO_COLOR")
)

interface Output {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

const cli = async (args: ReadonlyArray<string>, extraEnv: Record<string, string> = {}): Promise<Output> => {
  try {
    const { stderr, stdout } = await promisify(execFile)("node", [bin, ...args], {
      env: { ...env, ...extraEnv },
      maxBuffer: 16 * 1024 * 1024
    })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string }
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? String(e) }
  }
}

const ok = async (args: ReadonlyArray<string>): Promise<string> => {
  const out = await cli(args)
  if (out.code !== 0) throw new Error(`durable-tasks ${args.join(" ")} exited ${out.code}: ${out.stderr}`)
  expect(out.stderr).toBe("")
  return out.stdout
}

const json = async <A = any>(args: ReadonlyArray<string>): Promise<A> => JSON.parse(await ok([...args, "--json"]))

/** A failure: its exit code, and its message on one line with no stack and no Effect internals. */
const fails = async (args: ReadonlyArray<string>, code: number, message: RegExp, extraEnv = {}) => {
  const out = await cli(args, extraEnv)
  expect(out.code).toBe(code)
  expect(out.stdout).toBe("")
  const lines = out.stderr.split("\n").filter((l) => l !== "")
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(/^durable-tasks: /)
  expect(lines[0]).toMatch(message)
  expect(out.stderr).not.toMatch(/\bat .*:\d+:\d+|FiberFailure|effect\/|_tag/)
  expect(out.stderr).not.toContain("\u001b[")
}

beforeAll(async () => {
  await promisify(execFile)("node", [
    path.join(root, "node_modules/typescript/bin/tsc"),
    "-p",
    path.join(root, "tsconfig.build.json"),
    "--outDir",
    build
  ], { cwd: root })
}, 180_000)

afterAll(() => {
  fs.rmSync(build, { recursive: true, force: true })
  tmp.remove()
})

/** The checks of every storage: `db` is the `--db` flags (and `--schema`). */
const suite = (
  name: string,
  setup: () => Promise<{ readonly db: ReadonlyArray<string>; readonly f: Fixture }>,
  /** Every filter and flag error (else the storage-dependent ones only: each run of the bin costs a second). */
  full: boolean
) =>
  describe(`durable-tasks on ${name}`, { timeout: 240_000 }, () => {
    let db: ReadonlyArray<string> = []
    let f: Fixture
    beforeAll(async () => {
      ;({ db, f } = await setup())
    }, 60_000)

    it("list: a table without colors when stdout is no terminal; --json pages; every filter", async () => {
      const text = await ok(["list", ...db])
      expect(text.split("\n")[0]).toMatch(/^EXECUTION\s+TASK\s+STATUS\s+CREATED\s+TOOK\s+ATTEMPTS\s+ERROR$/)
      expect(text).toMatch(
        new RegExp(`${f.chargeId}\\s+charge-card\\s+failed\\s+.*\\s2\\s+card declined for 1999 cents`)
      )
      expect(text).not.toContain("\u001b[")
      const all = await json(["list", ...db])
      expect(all.executions.map((e: any) => e.taskId).sort()).toEqual(
        ["charge-card", "place-order", "reserve-stock", "send-email", "send-email", "ship"]
      )
      expect(all.nextCursor).toBeNull()
      const ids = async (...flags: Array<string>) =>
        (await json(["list", ...db, ...flags])).executions.map((e: any) => e.executionId).sort()
      const [failed, unsuccessful, emails, underRoot] = await Promise.all([
        ids("--status", "failed"),
        ids("--status", "failed,children_tasks_failed"),
        ids("--task", "send-email"),
        ids("--root", f.rootId)
      ])
      expect(failed).toEqual([f.chargeId])
      expect(unsuccessful).toEqual([f.chargeId, f.rootId].sort())
      expect(emails).toEqual([f.delayedId, f.emailId].sort())
      expect(underRoot).toHaveLength(3)
      if (full) {
        const later = Date.now() + 60_000
        const [children, recent, old, finishedLater, finishedBefore] = await Promise.all([
          ids("--parent", f.rootId),
          ids("--created-after", "1h"),
          ids("--created-before", "1h"),
          ids("--finished-after", new Date(later).toISOString()),
          ids("--finished-before", String(later))
        ])
        expect(children).toContain(f.chargeId)
        expect(recent).toHaveLength(6)
        expect(old).toEqual([])
        expect(finishedLater).toEqual([])
        expect(finishedBefore).toHaveLength(5)
      }
      const first = await json(["list", ...db, "--limit", "4"])
      expect(first.executions).toHaveLength(4)
      const second = await json(["list", ...db, "--limit", "4", "--cursor", first.nextCursor])
      expect(second.nextCursor).toBeNull()
      expect([...first.executions, ...second.executions].map((e: any) => e.executionId).sort()).toEqual(
        all.executions.map((e: any) => e.executionId).sort()
      )
      expect(await ok(["list", ...db, "--limit", "4"])).toContain(`next page: --cursor ${first.nextCursor}`)
    })

    it("show: the fields, and every attempt with its error's stack", async () => {
      const text = await ok(["show", f.chargeId, ...db])
      expect(text).toMatch(/status\s+failed/)
      expect(text).toMatch(new RegExp(`parent\\s+${f.rootId} \\(place-order\\), child 1`))
      expect(text).toContain("attempts (2)")
      expect(text).toMatch(/#1 .* fixture-executor {2}ready/)
      expect(text).toMatch(/#2 .* fixture-executor {2}failed/)
      expect(text).toContain("Error: card declined for 1999 cents")
      expect(text).toMatch(/at run \(.*fixture\.ts:\d+:\d+\)/)
      const execution = await json(["show", f.chargeId, ...db])
      expect(execution).toMatchObject({
        executionId: f.chargeId,
        taskId: "charge-card",
        status: "failed",
        runInput: 1999
      })
      expect(execution.attempts.map((a: any) => [a.attempt, a.status, a.executorId])).toEqual([
        [1, "ready", f.executorId],
        [2, "failed", f.executorId]
      ])
      expect(execution.attempts[1].error.stack).toMatch(/^Error: card declined for 1999 cents\n\s+at run/)
      expect((await json(["show", f.emailId, ...db])).output).toBe("sent to ada@example.com")
    })

    it("tree: the failed tree drawn, children in order; --json nests them", async () => {
      const lines = (await ok(["tree", f.rootId, ...db])).trimEnd().split("\n")
      expect(lines).toHaveLength(4)
      expect(lines[0]).toMatch(new RegExp(`^place-order ${f.rootId} children_tasks_failed .*charge-card`))
      expect(lines[1]).toMatch(/^├─ reserve-stock te_\w+ completed/)
      expect(lines[2]).toMatch(new RegExp(`^├─ charge-card ${f.chargeId} failed \\(.*2 attempts\\) card declined`))
      expect(lines[3]).toMatch(/^└─ ship te_\w+ cancelled/)
      const tree = await json(["tree", f.rootId, ...db])
      expect(tree.children.map((c: any) => [c.execution.taskId, c.execution.status])).toEqual([
        ["reserve-stock", "completed"],
        ["charge-card", "failed"],
        ["ship", "cancelled"]
      ])
    })

    it("stats: counts per status and per task", async () => {
      expect(await json(["stats", ...db])).toEqual({
        byStatus: { ready: 1, completed: 2, failed: 1, children_tasks_failed: 1, cancelled: 1 },
        byTaskId: { "send-email": 2, "charge-card": 1, "place-order": 1, "reserve-stock": 1, ship: 1 }
      })
      expect(await ok(["stats", ...db])).toMatch(/total {2}6/)
    })

    it("errors: one line, exit 1 for an unknown id or storage, 2 for a bad flag or --db", async () => {
      await Promise.all([
        fails(["show", "te_nope", ...db], 1, /no execution te_nope in (SQLite|Postgres) /),
        fails(["tree", "te_nope", ...db], 1, /no execution te_nope/)
      ])
      if (!full) return
      await Promise.all([
        fails(["list", ...db, "--bogus"], 2, /unknown argument: '--bogus'/),
        fails(["list", ...db, "--limit", "5000"], 2, /--limit must be an integer from 1 to 1000/),
        fails(["list", ...db, "--status", "broken"], 2, /--status must be one of ready, running/),
        fails(["list", ...db, "--created-after", "yesterday"], 2, /--created-after must be an ISO 8601 time/)
      ])
      await Promise.all([
        fails(["list", ...db, "--cursor", "nope"], 2, /--cursor is not a cursor/),
        fails(["show", ...db], 2, /Missing argument <ID>/),
        fails(["purge", ...db], 2, /--finished-before/),
        fails(["lsit", ...db], 2, /use one of 'list', 'show'/)
      ])
    })

    it("cancel: the delayed execution through the cancel transition; a finished one is left as it is", async () => {
      expect(await ok(["cancel", f.delayedId, ...db])).toBe(
        `${f.delayedId} cancelled (was ready), with its unfinished descendants\n`
      )
      const shown = await json(["show", f.delayedId, ...db])
      expect(shown.status).toBe("cancelled")
      expect(shown.error).toMatchObject({ errorType: "cancelled", message: "cancelled by the user" })
      const again = await json(["cancel", f.delayedId, ...db])
      expect(again.cancelled).toBe(false)
      expect(await ok(["cancel", f.emailId, ...db])).toContain("already finished (completed)")
      await fails(["cancel", "te_nope", ...db], 1, /no execution te_nope/)
    })

    it("purge: by age and status, whole trees; nothing before the first finish", async () => {
      expect(await json(["purge", ...db, "--finished-before", "0"])).toMatchObject({ deleted: 0 })
      const future = String(Date.now() + 60_000)
      expect(await ok(["purge", ...db, "--finished-before", future, "--status", "completed"])).toMatch(
        /^deleted 1 execution \(trees finished before /
      )
      expect(await json(["purge", ...db, "--finished-before", future])).toMatchObject({ deleted: 5 })
      expect((await json(["list", ...db])).executions).toEqual([])
    })
  })

suite("SQLite", async () => {
  const filename = path.join(tmp.dir, "app.db")
  const f = await fill(createSqliteStorage({ filename }))
  return { db: ["--db", `sqlite:${filename}`], f }
}, true)

const schema = uniqueName("cli")
afterAll(() => dropSchemas([schema]))
suite("Postgres", async () => {
  const f = await fill(createPostgresStorage({ connectionString: databaseUrl(), schema, maxConnections: 4 }))
  return { db: ["--db", databaseUrl(), "--schema", schema], f }
}, false)

describe("durable-tasks, before any storage", { timeout: 240_000 }, () => {
  it("--help on the command and on every subcommand", async () => {
    expect(await ok(["--help"])).toMatch(/COMMANDS[\s\S]*- list[\s\S]*- show[\s\S]*- purge[\s\S]*- stats/)
    const helps = await Promise.all(["list", "show", "tree", "cancel", "purge", "stats"].map((c) => ok([c, "--help"])))
    for (const help of helps) {
      expect(help).toContain("--db text")
      expect(help).not.toContain("\u001b[")
    }
  })

  it("a bad or missing --db: one line naming the problem, never the password", async () => {
    await Promise.all([
      fails(["stats"], 2, /no database: give --db sqlite:PATH or --db postgres:\/\/.*DURABLE_TASKS_DB/),
      fails(["stats", "--db", "mysql://h/db"], 2, /--db scheme "mysql:" is unknown/),
      fails(["stats", "--db", "app.db"], 2, /--db has no scheme/),
      fails(["stats", "--db", `sqlite:${tmp.dir}/missing.db`], 1, /SQLite file .*missing\.db does not exist/)
    ])
    const notDb = path.join(tmp.dir, "not-a-db.db")
    fs.writeFileSync(notDb, "hello, I am not a database file, but long enough to have a header of sorts".repeat(10))
    await fails(["stats", "--db", `sqlite:${notDb}`], 1, /not a database/)
    const empty = path.join(tmp.dir, "empty.db")
    fs.writeFileSync(empty, "")
    await fails(
      ["stats", "--db", `sqlite:${empty}`],
      1,
      /has no durable-tasks tables \(no table durable_tasks_executions\)/
    )
    expect(fs.statSync(empty).size).toBe(0) // not migrated: a mistyped --db creates nothing
    await fails(["stats"], 1, /does not exist/, { DURABLE_TASKS_DB: `sqlite:${tmp.dir}/env.db` })
    const url = new URL(databaseUrl())
    url.password = "wrong-secret"
    url.pathname = "/no_such_database"
    const out = await cli(["stats", "--db", url.toString()])
    expect(out.code).toBe(1)
    expect(out.stderr).not.toContain("wrong-secret")
    await fails(["stats", "--db", databaseUrl(), "--schema", "no_such_schema"], 1, /has no durable-tasks tables/)
    await fails(
      ["stats", "--db", "postgres://u:secret@127.0.0.1:1/db"],
      1,
      /cannot connect to Postgres at 127\.0\.0\.1:1\/db/
    )
  })

  it("colors only on a terminal without NO_COLOR", () => {
    expect(useColor({ isTTY: true }, {})).toBe(true)
    expect(useColor({ isTTY: true }, { NO_COLOR: "1" })).toBe(false)
    expect(useColor({ isTTY: false }, {})).toBe(false)
    expect(useColor({}, {})).toBe(false)
  })
})
