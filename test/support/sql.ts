/**
 * Helpers for tests on real databases: a temporary SQLite file, a Postgres schema of its own
 * for each test (dropped afterwards).
 */
import * as PgClient from "@effect/sql-pg/PgClient"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, inject } from "vitest"

let counter = 0

/** A fresh, unique identifier (schema or table prefix). */
export const uniqueName = (base: string): string =>
  `${base}_${process.pid}_${Date.now().toString(36)}_${(counter++).toString(36)}`

/** The test server's connection string. */
export const databaseUrl = (): string => inject("databaseUrl")

/** A temporary directory, removed by the returned function. */
export const tempDir = (): { readonly dir: string; readonly remove: () => void } => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "durable-tasks-test-"))
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) }
}

/** A Postgres client on the test server (small pool). */
export const pgClient = (maxConnections = 4): Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, unknown> =>
  PgClient.layer({ url: Redacted.make(databaseUrl()), maxConnections })

/** Drops schemas (after a test). */
export const dropSchemas = (schemas: ReadonlyArray<string>): Promise<void> =>
  Effect.runPromise(
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      for (const schema of schemas) yield* sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    }).pipe(Effect.provide(pgClient(1)), Effect.orDie)
  )

/**
 * Fresh Postgres schema names for one test file, all dropped after its tests (`afterAll`).
 * Call at the top level of the file.
 */
export const schemasDroppedAfterAll = (): (base: string) => string => {
  const schemas: Array<string> = []
  afterAll(() => dropSchemas(schemas))
  return (base) => {
    const schema = uniqueName(base)
    schemas.push(schema)
    return schema
  }
}
