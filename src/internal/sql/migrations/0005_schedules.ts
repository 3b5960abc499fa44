/**
 * Migration 5: the schedules table (cron schedules, `ScheduleStorage`). Frozen: a change is a new
 * migration.
 *
 * @since 0.1.0
 */
import type { Migration } from "../Migrations.js"

/** @since 0.1.0 */
export const migration: Migration = {
  pg: ({ schedulesTable }) => [
    `CREATE TABLE IF NOT EXISTS ${schedulesTable} (schedule_id text NOT NULL PRIMARY KEY, task_id text NOT NULL, ` +
    "cron text NOT NULL, timezone text NOT NULL, input text, catch_up text NOT NULL, paused boolean NOT NULL, " +
    "next_tick_at bigint NOT NULL, revision bigint NOT NULL, created_at bigint NOT NULL, updated_at bigint NOT NULL)"
  ],
  sqlite: ({ schedulesTable }) => [
    `CREATE TABLE IF NOT EXISTS ${schedulesTable} (schedule_id TEXT NOT NULL PRIMARY KEY, task_id TEXT NOT NULL, ` +
    "cron TEXT NOT NULL, timezone TEXT NOT NULL, input TEXT, catch_up TEXT NOT NULL, paused INTEGER NOT NULL, " +
    "next_tick_at INTEGER NOT NULL, revision INTEGER NOT NULL, created_at INTEGER NOT NULL, " +
    "updated_at INTEGER NOT NULL)"
  ]
}
