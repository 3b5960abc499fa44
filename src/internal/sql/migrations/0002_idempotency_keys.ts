/**
 * Migration 2: idempotency keys. A nullable `idempotency_key` column (rows stored before it have
 * none), and a unique index on `(task_id, idempotency_key)` over the rows that have one: it is what
 * makes concurrent enqueues with one key, from any process, store one execution (the insert skips a
 * row whose key is taken, `ON CONFLICT … DO NOTHING`). Frozen: never edit it.
 *
 * @since 0.1.0
 */
import type { Migration } from "../Migrations.js"

/** @since 0.1.0 */
export const migration: Migration = {
  pg: ({ index, table }) => [
    `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS idempotency_key text`,
    `CREATE UNIQUE INDEX IF NOT EXISTS ${index("idempotency")} ON ${table} (task_id, idempotency_key) ` +
    "WHERE idempotency_key IS NOT NULL"
  ],
  sqlite: ({ index, table }) => [
    `ALTER TABLE ${table} ADD COLUMN idempotency_key TEXT`,
    `CREATE UNIQUE INDEX IF NOT EXISTS ${index("idempotency")} ON ${table} (task_id, idempotency_key) ` +
    "WHERE idempotency_key IS NOT NULL"
  ]
}
