/**
 * Migration 7: flow control. A `priority` column (rows stored before it have 0) and a nullable
 * `concurrency_key`; the index of a keyed claim (a task's keys with ready rows, found by skipping
 * through it, and each key's first due row in claim order) over the ready rows that have a key; and
 * the index of the running counts per task and key. Frozen: never edit it.
 *
 * @since 0.1.0
 */
import type { Migration } from "../Migrations.js"

const indexes = (index: (suffix: string) => string, table: string): ReadonlyArray<string> => [
  `CREATE INDEX IF NOT EXISTS ${index("ready_key")} ON ${table} ` +
  "(task_id, concurrency_key, priority DESC, start_at, execution_id) " +
  "WHERE status = 'ready' AND concurrency_key IS NOT NULL",
  `CREATE INDEX IF NOT EXISTS ${index("running_key")} ON ${table} (task_id, concurrency_key) ` +
  "WHERE status = 'running'"
]

/** @since 0.1.0 */
export const migration: Migration = {
  pg: ({ index, table }) => [
    `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS priority integer NOT NULL DEFAULT 0`,
    `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS concurrency_key text`,
    ...indexes(index, table)
  ],
  sqlite: ({ index, table }) => [
    `ALTER TABLE ${table} ADD COLUMN priority INTEGER NOT NULL DEFAULT 0`,
    `ALTER TABLE ${table} ADD COLUMN concurrency_key TEXT`,
    ...indexes(index, table)
  ]
}
