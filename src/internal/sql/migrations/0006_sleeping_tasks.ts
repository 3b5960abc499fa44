/**
 * Migration 6: sleeping and looping tasks. A nullable `sleep_id` column (the id a wakeup names; rows
 * of other tasks have none), and a unique index on `(task_id, sleep_id)` over the rows that have
 * one: a wakeup finds its execution through it, and no two executions of one sleeping task hold one
 * id. A nullable `loop` column (JSON): a looping execution's limits and iteration count. Frozen:
 * never edit it.
 *
 * @since 0.1.0
 */
import type { Migration } from "../Migrations.js"

/** @since 0.1.0 */
export const migration: Migration = {
  pg: ({ index, table }) => [
    `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS sleep_id text`,
    `CREATE UNIQUE INDEX IF NOT EXISTS ${index("sleep")} ON ${table} (task_id, sleep_id) WHERE sleep_id IS NOT NULL`,
    `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS loop text`
  ],
  sqlite: ({ index, table }) => [
    `ALTER TABLE ${table} ADD COLUMN sleep_id TEXT`,
    `CREATE UNIQUE INDEX IF NOT EXISTS ${index("sleep")} ON ${table} (task_id, sleep_id) WHERE sleep_id IS NOT NULL`,
    `ALTER TABLE ${table} ADD COLUMN loop TEXT`
  ]
}
