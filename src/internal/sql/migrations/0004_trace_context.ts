/**
 * Migration 4: the `trace_context` column (the W3C `traceparent` an execution's runs continue),
 * nullable, at the end of the table. Frozen: never edit it; a change is a new migration.
 *
 * @since 0.1.0
 */
import type { Migration } from "../Migrations.js"

/** @since 0.1.0 */
export const migration: Migration = {
  pg: ({ table }) => [`ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS trace_context text`],
  sqlite: ({ table }) => [`ALTER TABLE ${table} ADD COLUMN trace_context TEXT`]
}
