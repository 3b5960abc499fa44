/**
 * Migration 3: the attempt history column (JSON text, null until an attempt ends), and the indexes
 * of the queries: executions listed newest first (`created_at DESC, execution_id DESC`, keyset
 * pagination) by status, task, root or creation time; finished ones by their finish time (list
 * filters and retention). The status and root indexes of migration 1 (ordered by `seq`) are
 * replaced by ones in the listing's order. Frozen: never edit it.
 *
 * @since 0.1.0
 */
import type { Migration } from "../Migrations.js"

/**
 * The statements; `qualifier` is what names an index of the table's schema in a DROP (Postgres
 * resolves an unqualified one on the search path, which may hold another storage's table).
 */
const indexes = (index: (suffix: string) => string, table: string, qualifier: string): ReadonlyArray<string> => [
  `DROP INDEX IF EXISTS ${qualifier}${index("status")}`,
  `DROP INDEX IF EXISTS ${qualifier}${index("root")}`,
  `CREATE INDEX IF NOT EXISTS ${index("created")} ON ${table} (created_at, execution_id)`,
  `CREATE INDEX IF NOT EXISTS ${index("status_created")} ON ${table} (status, created_at, execution_id)`,
  `CREATE INDEX IF NOT EXISTS ${index("task_created")} ON ${table} (task_id, created_at, execution_id)`,
  `CREATE INDEX IF NOT EXISTS ${index("root_created")} ON ${table} (root_execution_id, created_at, execution_id) ` +
  "WHERE root_execution_id IS NOT NULL",
  `CREATE INDEX IF NOT EXISTS ${index("finished")} ON ${table} (finished_at) WHERE finished_at IS NOT NULL`
]

/** `"schema".` of a schema-qualified quoted table name (`"schema"."table"`), else "". */
const schemaOf = (table: string): string => {
  const dot = table.indexOf("\".\"")
  return dot < 0 ? "" : table.slice(0, dot + 2)
}

/** @since 0.1.0 */
export const migration: Migration = {
  pg: (
    { index, table }
  ) => [`ALTER TABLE ${table} ADD COLUMN attempts text`, ...indexes(index, table, schemaOf(table))],
  sqlite: ({ index, table }) => [`ALTER TABLE ${table} ADD COLUMN attempts TEXT`, ...indexes(index, table, "")]
}
