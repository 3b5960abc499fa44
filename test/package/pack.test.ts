/**
 * The package as a user gets it: `npm run build`, `npm pack`, then the tarball installed into a fresh
 * folder with the README's install line (`npm install durable-tasks effect@3`: the `@effect/sql*`
 * peers come in as npm installs peers) and nothing from this repository. There, all four entry points
 * load as ES modules and with `require()`, tasks run on memory and on a SQLite file, the `durable-tasks`
 * bin lists that file's executions through `npx` (its @effect/cli dependencies came with the package;
 * @effect/platform-node is not needed and not installed), and a strict
 * NodeNext `tsc` without `skipLibCheck` checks a file that imports them all (test/package/consumer/).
 * Two more folders show what `npm install durable-tasks effect` (no version: npm picks a 3.x that
 * every peer accepts) and `npm install durable-tasks effect@4` do.
 *
 * Install scripts are skipped (`--ignore-scripts`) and the project's own compiled `better_sqlite3.node`
 * is copied in: compiling better-sqlite3 from source takes over a minute here and tests node-gyp, not
 * this package; the copy is of the same better-sqlite3 version (checked below) for the same Node.
 * `--prefer-offline` takes packages from npm's cache when it has them.
 */
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { problem } from "../../src/internal/EffectVersion.js"

const run = promisify(execFile)
const root = path.resolve(import.meta.dirname, "../..")
const consumerFiles = path.join(root, "test/package/consumer")
const tsc = path.join(root, "node_modules/typescript/bin/tsc")
const work = fs.mkdtempSync(path.join(os.tmpdir(), "durable-tasks-pack-"))
const app = path.join(work, "app")
const app4 = path.join(work, "app-effect-latest")
const app4Pinned = path.join(work, "app-effect4")

/** The environment without the npm_* variables of an enclosing `npm test` (its prefix, its package). */
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith("npm_")))

interface Output {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs a command to its end; never rejects, so a test can show the output of a failure. */
const sh = async (cwd: string, command: string, args: ReadonlyArray<string>): Promise<Output> => {
  try {
    const { stderr, stdout } = await run(command, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string }
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? String(error) }
  }
}

const ok = (output: Output, what: string): Output => {
  if (output.code !== 0) throw new Error(`${what} failed (${output.code}):\n${output.stdout}\n${output.stderr}`)
  return output
}

const npmInstall = (cwd: string, specs: ReadonlyArray<string>) =>
  sh(cwd, "npm", ["install", ...specs, "--prefer-offline", "--ignore-scripts", "--no-audit", "--no-fund"])

const version = (dir: string, pkg: string): string =>
  (JSON.parse(fs.readFileSync(path.join(dir, "node_modules", pkg, "package.json"), "utf8")) as { version: string })
    .version

let tarball = ""
let sqliteFile = ""
let installEffectLatest: Output
let installEffect4: Output
const timings: Record<string, number> = {}
const timed = async <A>(name: string, f: () => Promise<A>): Promise<A> => {
  const start = performance.now()
  try {
    return await f()
  } finally {
    timings[name] = Math.round(performance.now() - start)
  }
}

beforeAll(async () => {
  await timed("build", async () => ok(await sh(root, "npm", ["run", "build"]), "npm run build"))
  const packed = await timed(
    "pack",
    async () => ok(await sh(root, "npm", ["pack", "--json", "--pack-destination", work]), "npm pack")
  )
  tarball = path.join(work, (JSON.parse(packed.stdout) as Array<{ filename: string }>)[0]!.filename)
  for (const dir of [app, app4, app4Pinned]) {
    fs.mkdirSync(dir)
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: path.basename(dir), private: true }))
  }
  const [installed, latest, pinned4] = await timed("install", () =>
    Promise.all([
      // the README's line, plus @types/node that any TypeScript app on Node has
      npmInstall(app, [tarball, "effect@3", "@types/node@20"]),
      npmInstall(app4, [tarball, "effect"]), // npm's latest tag: 4.x
      npmInstall(app4Pinned, [tarball, "effect@4"])
    ]))
  ok(installed!, "npm install (effect 3)")
  installEffectLatest = latest!
  installEffect4 = pinned4!
  expect(version(app, "better-sqlite3")).toBe(version(root, "better-sqlite3"))
  const binary = "better-sqlite3/build/Release/better_sqlite3.node"
  for (const dir of [app, app4]) {
    fs.mkdirSync(path.dirname(path.join(dir, "node_modules", binary)), { recursive: true })
    fs.copyFileSync(path.join(root, "node_modules", binary), path.join(dir, "node_modules", binary))
  }
  for (const file of fs.readdirSync(consumerFiles)) {
    fs.copyFileSync(path.join(consumerFiles, file), path.join(app, file))
  }
}, 300_000)

afterAll(() => {
  console.log(`pack test timings (ms): ${JSON.stringify(timings)}`)
  fs.rmSync(work, { recursive: true, force: true })
})

describe("the packed package, installed in a fresh folder", () => {
  it("ships dist, README and LICENSE, no source maps, and declares effect and @effect/sql* as peers", async () => {
    const list = ok(await sh(work, "tar", ["tzf", tarball]), "tar").stdout.split("\n").filter((l) => l !== "")
    expect(list.filter((f) => f.endsWith(".map"))).toEqual([])
    const top = ["package/LICENSE", "package/README.md", "package/package.json"]
    expect(list).toEqual(expect.arrayContaining(top))
    expect(list.filter((f) => !f.startsWith("package/dist/src/") && !top.includes(f))).toEqual([])
    expect(list).toContain("package/dist/src/simulation/SqliteFile.js")
    const manifest = JSON.parse(fs.readFileSync(path.join(app, "node_modules/durable-tasks/package.json"), "utf8"))
    const optional = new Set(Object.keys(manifest.peerDependenciesMeta ?? {}))
    expect(Object.keys(manifest.peerDependencies).filter((name) => !optional.has(name)).sort()).toEqual(
      ["@effect/sql", "@effect/sql-pg", "@effect/sql-sqlite-node", "effect"]
    )
    expect(version(app, "effect")).toMatch(/^3\./)
    // the bin's own: regular dependencies, so that `npx durable-tasks` works after `npm install durable-tasks`
    expect(manifest.bin).toEqual({ "durable-tasks": "dist/src/cli/main.js" })
    expect(Object.keys(manifest.dependencies)).toEqual(
      expect.arrayContaining(["@effect/cli", "@effect/platform", "@effect/printer", "@effect/printer-ansi"])
    )
    for (const unused of ["@effect/platform-node", "@effect/platform-node-shared"]) {
      expect(fs.existsSync(path.join(app, "node_modules", unused))).toBe(false)
    }
  })

  it("imports all four entry points as ES modules; runs tasks on memory, SQLite, Effect API, simulator", async () => {
    const output = ok(await timed("esm", () => sh(app, "node", ["use.mjs"])), "node use.mjs")
    expect(JSON.parse(output.stdout)).toEqual({
      memory: { status: "completed", output: "Hello, world!" },
      sqlite: { status: "completed", output: "Hello, world!" },
      effect: 42,
      simulation: { ok: true, output: 4 },
      conformance: "function",
      sqliteFile: expect.any(String)
    })
    sqliteFile = JSON.parse(output.stdout).sqliteFile
  })

  it("runs the durable-tasks bin with npx (its dependencies came with the package) on that SQLite file", async () => {
    const help = ok(await sh(app, "npx", ["--no-install", "durable-tasks", "--help"]), "npx durable-tasks --help")
    expect(help.stdout).toContain("list")
    const listed = ok(
      await sh(app, "npx", ["--no-install", "durable-tasks", "list", "--json", "--db", `sqlite:${sqliteFile}`]),
      "npx durable-tasks list"
    )
    const page = JSON.parse(listed.stdout) as { executions: Array<{ taskId: string; status: string }> }
    expect(page.executions.map((e) => [e.taskId, e.status])).toEqual([["greet", "completed"]])
    const bad = await sh(app, "npx", ["--no-install", "durable-tasks", "stats", "--db", "sqlite:missing.db"])
    expect(bad.code).toBe(1)
    expect(bad.stderr.trim()).toMatch(/^durable-tasks: SQLite file .*missing\.db does not exist$/)
  })

  it("loads all four entry points and package.json with require()", async () => {
    const output = ok(await timed("cjs", () => sh(app, "node", ["use.cjs"])), "node use.cjs")
    expect(JSON.parse(output.stdout)).toEqual({
      name: "durable-tasks",
      status: "completed",
      output: 3,
      exports: { root: "function", effect: "function", testing: "function", simulation: "function" }
    })
  })

  it("type-checks under strict NodeNext tsc without skipLibCheck", async () => {
    const config = JSON.parse(fs.readFileSync(path.join(app, "tsconfig.json"), "utf8"))
    expect(config.compilerOptions).toMatchObject({ strict: true, module: "NodeNext", moduleResolution: "NodeNext" })
    expect(config.compilerOptions.skipLibCheck).toBeUndefined()
    ok(await timed("tsc", () => sh(app, "node", [tsc, "-p", "tsconfig.json"])), "tsc (strict, NodeNext)")
  })

  it("refuses an unsupported effect at import with an error naming both versions", async () => {
    // effect 3's code under a 4.x version stamp: what the check reads is the installed package.json
    const manifestPath = path.join(app, "node_modules/effect/package.json")
    const original = fs.readFileSync(manifestPath, "utf8")
    fs.writeFileSync(manifestPath, original.replace(/"version": "[^"]+"/, `"version": "4.1.0"`))
    try {
      for (
        const entry of ["durable-tasks", "durable-tasks/effect", "durable-tasks/testing", "durable-tasks/simulation"]
      ) {
        const output = await sh(app, "node", ["--input-type=module", "-e", `await import(${JSON.stringify(entry)})`])
        expect(output.code).not.toBe(0)
        expect(output.stderr).toContain("durable-tasks needs effect 3.x (^3.22.4), found effect 4.1.0")
      }
    } finally {
      fs.writeFileSync(manifestPath, original)
    }
  })

  it("with `npm install durable-tasks effect` (no version): npm picks an effect 3 every peer accepts", async () => {
    // Since the bin's @effect/cli is a regular dependency (its peer: effect ^3.22), npm resolves an
    // unversioned `effect` to the newest 3.x instead of the latest tag (4.x), and the import works.
    ok(installEffectLatest, "npm install durable-tasks effect")
    expect(version(app4, "effect")).toMatch(/^3\./)
    const output = await sh(app4, "node", ["--input-type=module", "-e", `await import("durable-tasks")`])
    expect(output.code).toBe(0)
  })

  it("with effect@4 asked for explicitly: npm refuses the install (ERESOLVE)", () => {
    expect(installEffect4.code).not.toBe(0)
    expect(installEffect4.stderr).toContain("ERESOLVE")
    expect(installEffect4.stderr).toMatch(/peer effect@"\^3\.22\.\d" from (durable-tasks|@effect\/)/)
  })
})

describe("EffectVersion.problem", () => {
  it("accepts the supported 3.x versions and names any other", () => {
    expect(problem("3.22.4")).toBeUndefined()
    expect(problem("3.30.0")).toBeUndefined()
    expect(problem("4.1.0", "/app/node_modules/effect/package.json")).toBe(
      "durable-tasks needs effect 3.x (^3.22.4), found effect 4.1.0 (/app/node_modules/effect/package.json). " +
        "npm's latest effect is 4.x: install the Effect 3 line with npm install effect@3"
    )
    expect(problem("4.0.0-rc.1")).toContain("found effect 4.0.0-rc.1")
    expect(problem("3.21.5")).toBe(
      "durable-tasks needs effect ^3.22.4, found effect 3.21.5: upgrade with npm install effect@3"
    )
    expect(problem("3.22.3")).toContain("found effect 3.22.3")
    expect(problem("2.4.19")).toContain("needs effect 3.x")
    expect(problem("nonsense")).toBe("durable-tasks needs effect 3.x (^3.22.4), found effect nonsense")
  })
})
