/* global setTimeout, clearTimeout */
/**
 * A child process that holds a SQLite file's write lock: opens `argv[2]` (WAL), runs
 * `BEGIN IMMEDIATE`, sends "locked" over IPC, and commits when the parent sends "release" or after
 * `argv[3]` ms (default 60 000), then sends "released" and exits. Used by the storage-error tests and
 * the lock-wait benchmark (`bench/lockWait.ts`).
 */
import Database from "better-sqlite3"

const [filename, maxHoldArg] = process.argv.slice(2)
if (filename === undefined) throw new Error("usage: lockHolder.mjs <file> [maxHoldMs]")
const db = new Database(filename, { timeout: 10_000 })
db.pragma("journal_mode = WAL")
db.exec("BEGIN IMMEDIATE")
let released = false
const release = () => {
  if (released) return
  released = true
  db.exec("COMMIT")
  db.close()
  process.send?.("released", () => process.exit(0))
}
const timer = setTimeout(release, Number(maxHoldArg ?? 60_000))
process.on("message", (message) => {
  if (message !== "release") return
  clearTimeout(timer)
  release()
})
process.send?.("locked")
