/**
 * Migration 1: the executions table and its indexes, frozen as the DDL that every database created
 * since 0.1.0 has. Never edit it: a change to the stored row is a new migration.
 *
 * @since 0.1.0
 */
import type { Migration } from "../Migrations.js"

/** @since 0.1.0 */
export const migration: Migration = {
  pg: ({ index, table }) => [
    `CREATE TABLE IF NOT EXISTS ${table} (seq bigint GENERATED ALWAYS AS IDENTITY, ` +
    "execution_id text NOT NULL PRIMARY KEY, task_id text NOT NULL, root_execution_id text, root_task_id text, " +
    "parent_execution_id text, parent_task_id text, index_in_parent integer NOT NULL, is_finalize boolean NOT NULL, " +
    "status text NOT NULL, is_closed boolean NOT NULL, needs_promise_cancellation boolean NOT NULL, input text, " +
    "run_output text, output text, children text NOT NULL, completed_children integer NOT NULL, finalize text, " +
    "finalize_execution_id text, error text, prev_error text, timeout_ms bigint NOT NULL, retry text NOT NULL, " +
    "sleep_ms_before_run bigint NOT NULL, retry_attempts integer NOT NULL, start_at bigint NOT NULL, lease_id text, " +
    "executor_id text, expires_at bigint, started_at bigint, finished_at bigint, created_at bigint NOT NULL, " +
    "updated_at bigint NOT NULL)",
    // Claiming: due ready rows of some task ids, oldest start first.
    `CREATE INDEX IF NOT EXISTS ${index("ready")} ON ${table} (task_id, start_at) WHERE status = 'ready'`,
    // Lease expiry and nextWake.
    `CREATE INDEX IF NOT EXISTS ${index("running")} ON ${table} (expires_at) WHERE status = 'running'`,
    `CREATE INDEX IF NOT EXISTS ${index("parent")} ON ${table} (parent_execution_id) ` +
    "WHERE parent_execution_id IS NOT NULL",
    `CREATE INDEX IF NOT EXISTS ${index("root")} ON ${table} (root_execution_id, seq) ` +
    "WHERE root_execution_id IS NOT NULL",
    // Listing by status.
    `CREATE INDEX IF NOT EXISTS ${index("status")} ON ${table} (status, seq)`
  ],
  sqlite: ({ index, table }) => [
    // `seq` is the rowid: insertion order, stable across VACUUM.
    `CREATE TABLE IF NOT EXISTS ${table} (seq INTEGER PRIMARY KEY, ` +
    "execution_id TEXT NOT NULL UNIQUE, task_id TEXT NOT NULL, root_execution_id TEXT, root_task_id TEXT, " +
    "parent_execution_id TEXT, parent_task_id TEXT, index_in_parent INTEGER NOT NULL, is_finalize INTEGER NOT NULL, " +
    "status TEXT NOT NULL, is_closed INTEGER NOT NULL, needs_promise_cancellation INTEGER NOT NULL, input TEXT, " +
    "run_output TEXT, output TEXT, children TEXT NOT NULL, completed_children INTEGER NOT NULL, finalize TEXT, " +
    "finalize_execution_id TEXT, error TEXT, prev_error TEXT, timeout_ms INTEGER NOT NULL, retry TEXT NOT NULL, " +
    "sleep_ms_before_run INTEGER NOT NULL, retry_attempts INTEGER NOT NULL, start_at INTEGER NOT NULL, " +
    "lease_id TEXT, executor_id TEXT, expires_at INTEGER, started_at INTEGER, finished_at INTEGER, " +
    "created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)",
    `CREATE INDEX IF NOT EXISTS ${index("ready")} ON ${table} (task_id, start_at) WHERE status = 'ready'`,
    `CREATE INDEX IF NOT EXISTS ${index("running")} ON ${table} (expires_at) WHERE status = 'running'`,
    `CREATE INDEX IF NOT EXISTS ${index("parent")} ON ${table} (parent_execution_id) ` +
    "WHERE parent_execution_id IS NOT NULL",
    `CREATE INDEX IF NOT EXISTS ${index("root")} ON ${table} (root_execution_id) WHERE root_execution_id IS NOT NULL`,
    `CREATE INDEX IF NOT EXISTS ${index("status")} ON ${table} (status)`
  ]
}
