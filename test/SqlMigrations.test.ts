/**
 * Frozen migrations on real databases (SQLite temp files, the test Postgres server): migration 1
 * is today's DDL and agrees with the column table; a database at migration 1 with rows in it,
 * upgraded by the runner, has the same schema and the same stored rows as a fresh database.
 */
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import { createHash } from "node:crypto"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { makeReady } from "../src/ExecutionRow.js"
import { migrate, type Migration, type MigrationRecord, MIGRATIONS } from "../src/internal/sql/Migrations.js"
import { migration as createExecutions } from "../src/internal/sql/migrations/0001_create_executions.js"
import { migration as idempotencyKeys } from "../src/internal/sql/migrations/0002_idempotency_keys.js"
import { migration as attemptsAndQueryIndexes } from "../src/internal/sql/migrations/0003_attempts_and_query_indexes.js"
import { migration as traceContext } from "../src/internal/sql/migrations/0004_trace_context.js"
import { migration as schedules } from "../src/internal/sql/migrations/0005_schedules.js"
import { sqlNames } from "../src/internal/sql/SqlCommon.js"
import { COLUMNS, paramsOf } from "../src/internal/sql/SqlRow.js"
import * as SqlStorage from "../src/SqlStorage.js"
import { dropSchemas, pgClient, tempDir, uniqueName } from "./support/sql.js"

const schemas: Array<string> = []
afterAll(() => dropSchemas(schemas))

const PREFIX = SqlStorage.DEFAULT_TABLE_PREFIX

/** A test-only migration 99, so that the upgrade path runs: a column and an index. */
const addNote: Migration = {
  pg: ({ index, table }) => [
    `ALTER TABLE ${table} ADD COLUMN note text`,
    `CREATE INDEX IF NOT EXISTS ${index("created")} ON ${table} (created_at)`
  ],
  sqlite: ({ index, table }) => [
    `ALTER TABLE ${table} ADD COLUMN note TEXT`,
    `CREATE INDEX IF NOT EXISTS ${index("created")} ON ${table} (created_at)`
  ]
}
const UPGRADED: MigrationRecord = { ...MIGRATIONS, "9999_add_note": addNote }

/** The versions of {@link MIGRATIONS}, as the migrations table lists them. */
const CURRENT = Object.keys(MIGRATIONS).map((key) => {
  const [, id, name] = /^(\d+)_(.*)$/.exec(key)!
  return { version: Number(id), name: name!.replace(/_/g, " ") }
})

const spec = {
  taskId: "t",
  timeoutMs: 1_000,
  retry: { maxAttempts: 2, baseDelayMs: 10, delayMultiplier: 2, maxDelayMs: 100 },
  sleepMsBeforeRun: 0
}

/** Two rows through the storage: one claimed (lease fields set), one left ready. */
const addRows = (options: SqlStorage.Options) =>
  Effect.gen(function*() {
    const storage = yield* SqlStorage.make(options)
    yield* storage.insert([
      makeReady({ spec, executionId: "a", input: "{\"n\":1}", nowMs: 1_000 }),
      makeReady({ spec, executionId: "b", input: null, nowMs: 2_000 })
    ])
    const claimed = yield* storage.claim({
      nowMs: 1_500,
      limit: 1,
      taskIds: new Set(["t"]),
      executorId: "x",
      claimId: "c",
      leaseLeewayMs: 5_000
    })
    expect(claimed.map((r) => r.executionId)).toEqual(["a"])
    return yield* storage.getMany(["a", "b"])
  }).pipe(Effect.scoped)

type Dialect = "pg" | "sqlite"

/** Everything a migration can change, as text, with the Postgres schema name left out. */
const schemaOf = (dialect: Dialect, schema: string | undefined) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    if (dialect === "sqlite") {
      return yield* sql`SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name`
    }
    const columns = yield* sql`SELECT table_name, ordinal_position, column_name, data_type, is_nullable,
      column_default, is_identity FROM information_schema.columns WHERE table_schema = ${schema!}
      ORDER BY table_name, ordinal_position`
    const indexes = yield* sql`SELECT indexname, replace(replace(indexdef, ${`"${schema}".`}, ''), ${`${schema}.`}, '')
      AS def FROM pg_indexes WHERE schemaname = ${schema!} ORDER BY indexname`
    const constraints = yield* sql`SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
      WHERE connamespace = ${schema!}::regnamespace ORDER BY conname`
    return [...columns, ...indexes, ...constraints]
  })

const storedRows = (options: SqlStorage.Options) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => {
    const table = sql.literal(sqlNames({ prefix: PREFIX, schema: options.schema }).table)
    return sql`SELECT * FROM ${table} ORDER BY seq`
  })

const versionsOf = (options: SqlStorage.Options) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => {
    const table = sql.literal(sqlNames({ prefix: PREFIX, schema: options.schema }).migrationsTable)
    return Effect.map(sql`SELECT version, name FROM ${table} ORDER BY version`, (rows) => rows.map((r) => ({ ...r })))
  })

/**
 * Database `old`: today's migrations (as `SqlStorage.make` runs them) with rows, then upgraded to {@link UPGRADED}.
 * Database `fresh`: {@link UPGRADED} at once, then the same rows.
 */
const upgradeAndCompare = (
  dialect: Dialect,
  client: (db: "old" | "fresh") => Layer.Layer<SqlClient.SqlClient, unknown>,
  schemaOfDb: (db: "old" | "fresh") => string | undefined
) =>
  Effect.gen(function*() {
    const run = <A, E>(db: "old" | "fresh", effect: Effect.Effect<A, E, SqlClient.SqlClient>) =>
      Effect.provide(effect, client(db))
    const options = (db: "old" | "fresh"): SqlStorage.Options => ({ schema: schemaOfDb(db) })
    const migrateTo = (db: "old" | "fresh", record: MigrationRecord) =>
      run(
        db,
        Effect.flatMap(
          SqlClient.SqlClient,
          (sql) =>
            migrate(sql.withoutTransforms(), dialect, sqlNames({ prefix: PREFIX, schema: schemaOfDb(db) }), record)
        )
      )

    const before = yield* run("old", addRows(options("old")))
    expect(yield* run("old", versionsOf(options("old")))).toEqual(CURRENT)
    yield* migrateTo("old", UPGRADED)
    yield* migrateTo("old", UPGRADED) // a second run changes nothing

    yield* migrateTo("fresh", UPGRADED)
    yield* run("fresh", addRows(options("fresh")))

    // The same schema, the same migrations applied, the same stored rows (the new column null).
    expect(yield* run("old", schemaOf(dialect, schemaOfDb("old")))).toEqual(
      yield* run("fresh", schemaOf(dialect, schemaOfDb("fresh")))
    )
    const versions = yield* run("old", versionsOf(options("old")))
    expect(versions).toEqual([...CURRENT, { version: 9999, name: "add note" }])
    expect(yield* run("fresh", versionsOf(options("fresh")))).toEqual(versions)
    const oldRows = yield* run("old", storedRows(options("old")))
    expect(oldRows).toHaveLength(2)
    expect(oldRows.every((r) => r["note"] === null)).toBe(true)
    expect(oldRows).toEqual(yield* run("fresh", storedRows(options("fresh"))))
    // And the storage reads the upgraded rows as they were.
    const reread = Effect.flatMap(SqlStorage.make(options("old")), (s) => s.getMany(["a", "b"]))
    const after = yield* run("old", Effect.scoped(reread))
    expect(after).toEqual(before)
  })

/** The frozen table's columns agree with the column table: names, order, types, nullability. */
const expectColumnsOfTable = (
  columns: ReadonlyArray<{ readonly name: string; readonly type: string; readonly nullable: boolean }>,
  typeOf: (kind: (typeof COLUMNS)[number]["kind"]) => string
) =>
  expect(columns.filter((c) => c.name !== "seq")).toEqual(
    COLUMNS.map((c) => ({ name: c.sqlName, type: typeOf(c.kind), nullable: c.nullable }))
  )

describe("migration 5 (schedules)", () => {
  it("is frozen", () => {
    const names = { table: "\"t\"", index: (suffix: string) => `"i_${suffix}"`, schedulesTable: "\"s\"" }
    const hash = (dialect: Dialect) => createHash("sha256").update(schedules[dialect](names).join(";\n")).digest("hex")
    expect(hash("pg")).toBe("ead668272e71ff2d5ad298ec14f4fe396f230b5ddbbc978870aa08baa51548ee")
    expect(hash("sqlite")).toBe("aec2d09ae0f9e528b87aaee9a9bba6397647e9804935a558195d3eca99a67389")
    expect(MIGRATIONS["0005_schedules"]).toBe(schedules)
  })
})

describe("migration 1", () => {
  it("is frozen: its DDL is the one databases created since 0.1.0 have", () => {
    const names = { table: "\"t\"", index: (suffix: string) => `"i_${suffix}"`, schedulesTable: "\"s\"" }
    const hash = (dialect: Dialect) =>
      createHash("sha256").update(createExecutions[dialect](names).join(";\n")).digest("hex")
    // Changing these means old databases drift from new ones: add a migration instead.
    expect(hash("pg")).toBe("6d6d53ff0c1a06dfce2abf1d78ebda32654e5ae2ab073be2e0f4aebcc7e221a7")
    expect(hash("sqlite")).toBe("adc5f2594b0cbd052a80e774929d9042d049b5801d40156c1d12ba498266ee7b")
    expect(Object.keys(MIGRATIONS)).toEqual([
      "0001_create_executions",
      "0002_idempotency_keys",
      "0003_attempts_and_query_indexes",
      "0004_trace_context",
      "0005_schedules"
    ])
  })

  it("migration 2 is frozen too", () => {
    const names = { table: "\"t\"", index: (suffix: string) => `"i_${suffix}"`, schedulesTable: "\"s\"" }
    const hash = (dialect: Dialect) =>
      createHash("sha256").update(idempotencyKeys[dialect](names).join(";\n")).digest("hex")
    expect(hash("pg")).toBe("f2b5031b416efeca32b1910a5f5ca1f76aedd165eefccaeb0985d57bf316a56c")
    expect(hash("sqlite")).toBe("8e05d83592e8c340f7ddae1c1541df07eb951cd454066aab43011e15a2459138")
  })

  it("migration 3 is frozen too; on Postgres its index drops name the table's schema", () => {
    const names = { table: "\"t\"", index: (suffix: string) => `"i_${suffix}"`, schedulesTable: "\"s\"" }
    const hash = (dialect: Dialect) =>
      createHash("sha256").update(attemptsAndQueryIndexes[dialect](names).join(";\n")).digest("hex")
    expect(hash("pg")).toBe("2e102f9965a8efb217859c90deacd108510e95b9e1b303f1bc3b2a34642d3a1c")
    expect(hash("sqlite")).toBe("5eee584a3ac352c254ebcba8a35d57c5675a7008003225005197df35eda3b316")
    const qualified = attemptsAndQueryIndexes.pg({ ...names, table: "\"s\".\"t\"" })
    expect(qualified.filter((s) => s.startsWith("DROP"))).toEqual([
      "DROP INDEX IF EXISTS \"s\".\"i_status\"",
      "DROP INDEX IF EXISTS \"s\".\"i_root\""
    ])
  })

  it("migration 4 (trace context) is frozen too", () => {
    const names = { table: "\"t\"", index: (suffix: string) => `"i_${suffix}"`, schedulesTable: "\"s\"" }
    const hash = (dialect: Dialect) =>
      createHash("sha256").update(traceContext[dialect](names).join(";\n")).digest("hex")
    expect(hash("pg")).toBe("f3dbbde15dc6b688d68521249fd87e6f44c4671916cf35ae3b42a9b0fc0911f2")
    expect(hash("sqlite")).toBe("d9479f132185c895f70b33e208ee7ffeb5dca6b7c7f5986e572aa30b7a5bc9ba")
  })

  it("SQLite: creates one column per entry of the column table", async () => {
    const tmp = tempDir()
    try {
      const columns = await Effect.runPromise(
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          yield* SqlStorage.migrate(sql, "sqlite")
          const info = yield* sql`SELECT name, type, "notnull" FROM pragma_table_info(${`${PREFIX}executions`})`
          return info.map((c) => ({ name: String(c.name), type: String(c.type), nullable: c.notnull === 0 }))
        }).pipe(Effect.provide(SqliteClient.layer({ filename: path.join(tmp.dir, "columns.db") })))
      )
      expectColumnsOfTable(columns, (kind) => (kind === "text" || kind === "json" ? "TEXT" : "INTEGER"))
    } finally {
      tmp.remove()
    }
  })

  it("Postgres: creates one column per entry of the column table", async () => {
    const schema = uniqueName("columns")
    schemas.push(schema)
    const columns = await Effect.runPromise(
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* SqlStorage.migrate(sql, "pg", { schema })
        const info = yield* sql`SELECT column_name, data_type, is_nullable FROM information_schema.columns
        WHERE table_schema = ${schema} AND table_name = ${`${PREFIX}executions`} ORDER BY ordinal_position`
        return info.map((c) => ({
          name: String(c.column_name),
          type: String(c.data_type),
          nullable: c.is_nullable === "YES"
        }))
      }).pipe(Effect.provide(pgClient(1)))
    )
    const types = { text: "text", json: "text", int4: "integer", int8: "bigint", bool: "boolean" } as const
    expectColumnsOfTable(columns, (kind) => types[kind])
  })
})

describe("upgrading a database at migration 1", () => {
  it("SQLite: keeps its rows, and ends with a fresh database's schema and rows", async () => {
    const tmp = tempDir()
    try {
      await Effect.runPromise(upgradeAndCompare(
        "sqlite",
        (db) => SqliteClient.layer({ filename: path.join(tmp.dir, `${db}.db`) }),
        () => undefined
      ))
    } finally {
      tmp.remove()
    }
  })

  it("Postgres: keeps its rows, and ends with a fresh database's schema and rows", async () => {
    const names = { old: uniqueName("upgrade_old"), fresh: uniqueName("upgrade_fresh") }
    schemas.push(names.old, names.fresh)
    await Effect.runPromise(upgradeAndCompare("pg", () => pgClient(2), (db) => names[db]))
  })
})

/**
 * Database at migration 1 only, with a row written as 0.1.0 wrote it (no idempotency_key, attempts or
 * trace_context column); then `SqlStorage.make` applies migrations 2 to 5: the row reads back with no
 * key and no trace context, keys work, and the schema is a fresh database's.
 */
const fromMigration1 = (
  dialect: Dialect,
  client: (db: "old" | "fresh") => Layer.Layer<SqlClient.SqlClient, unknown>,
  schemaOfDb: (db: "old" | "fresh") => string | undefined
) =>
  Effect.gen(function*() {
    const names = sqlNames({ prefix: PREFIX, schema: schemaOfDb("old") })
    // The columns of migration 1: those added since (2: idempotency_key, 3: attempts, 4: trace_context) are left out.
    const added: ReadonlyArray<string> = ["idempotencyKey", "attempts", "traceContext"]
    const old = COLUMNS.filter((c) => !added.includes(c.field))
    const row = makeReady({ spec, executionId: "v1", input: "1", nowMs: 1_000 })
    yield* Effect.gen(function*() {
      const sql = (yield* SqlClient.SqlClient).withoutTransforms()
      yield* migrate(sql, dialect, names, { "0001_create_executions": createExecutions })
      const marks = old.map((_, k) => (dialect === "pg" ? `$${k + 1}` : "?")).join(", ")
      const text = `INSERT INTO ${names.table} (${old.map((c) => c.sqlName).join(", ")}) VALUES (${marks})`
      yield* sql.unsafe(text, paramsOf(dialect, old)(row))
    }).pipe(Effect.provide(client("old")))
    const options = { schema: schemaOfDb("old") }
    const [read, again] = yield* Effect.gen(function*() {
      const storage = yield* SqlStorage.make(options)
      const read = yield* storage.getMany(["v1"])
      const keyed = { ...row, executionId: "v2", idempotencyKey: "k" }
      yield* storage.insert([keyed])
      const again = yield* storage.insert([{ ...keyed, executionId: "v3" }])
      return [read, again] as const
    }).pipe(Effect.scoped, Effect.provide(client("old")))
    expect(read).toEqual([row])
    expect(read[0]!.idempotencyKey).toBeNull()
    expect(read[0]!.traceContext).toBeNull()
    expect(again.executionIds).toEqual(["v2"])
    yield* Effect.scoped(SqlStorage.make({ schema: schemaOfDb("fresh") })).pipe(Effect.provide(client("fresh")))
    expect(yield* Effect.provide(schemaOf(dialect, schemaOfDb("old")), client("old"))).toEqual(
      yield* Effect.provide(schemaOf(dialect, schemaOfDb("fresh")), client("fresh"))
    )
  })

describe("migrations 2 to 5 on a database at migration 1", () => {
  it("SQLite: old rows have no key nor trace context; keys then work; the schema is a fresh database's", async () => {
    const tmp = tempDir()
    try {
      await Effect.runPromise(fromMigration1(
        "sqlite",
        (db) => SqliteClient.layer({ filename: path.join(tmp.dir, `${db}.db`) }),
        () => undefined
      ))
    } finally {
      tmp.remove()
    }
  })

  it("Postgres: old rows have no key nor trace context; keys then work; the schema is a fresh database's", async () => {
    const names = { old: uniqueName("m2_old"), fresh: uniqueName("m2_fresh") }
    schemas.push(names.old, names.fresh)
    await Effect.runPromise(fromMigration1("pg", () => pgClient(2), (db) => names[db]))
  })
})
