/**
 * The SQL read of a limited task's claim (`StorageDriver.Transaction.dueReadyFlow`), both dialects.
 *
 * - Race-free counts: on Postgres the claim first takes a transaction-scoped advisory lock on the
 *   task id (`pg_advisory_xact_lock`), so claims of one limited task, from any process, count and
 *   claim one after another; each counts with a statement that starts after the previous holder
 *   committed (READ COMMITTED), so it sees every row that holder made `running`. Finishes and
 *   expiries take no lock: they only lower the count, so a count that misses one is too high, never
 *   too low. On SQLite the single writer (`BEGIN IMMEDIATE`) gives the same.
 * - Fairness: under `perKey`, the task's keys with ready rows are found by skipping through the
 *   `ready_key` index (migration 7: one index probe per key, a recursive query), and each key with
 *   free slots contributes its first due row (round 0), then its second (round 1), and so on: a key
 *   with 100,000 ready rows costs one probe like any other, and never hides the others. The cost is
 *   one probe per key with ready rows per round.
 *
 * @since 0.1.0
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { Fragment } from "@effect/sql/Statement"
import * as Effect from "effect/Effect"
import type { StorageError } from "../../EngineError.js"
import type { ExecutionRow } from "../../ExecutionRow.js"
import * as FlowControl from "../../FlowControl.js"
import type * as StorageDriver from "../../StorageDriver.js"
import { run } from "./SqlCommon.js"

/** What the read needs of the backend. @since 0.1.0 */
export interface FlowParts {
  readonly sql: SqlClient.SqlClient
  readonly table: Fragment
  readonly tableName: string
  readonly dialect: "pg" | "sqlite"
  readonly columns: Fragment
  readonly skipLocked: Fragment
  /** `column` equals one of `values` (text). */
  readonly anyOf: (column: string, values: ReadonlyArray<string>) => Fragment
  readonly rows: (op: string, statement: Effect.Effect<ReadonlyArray<unknown>, any>) => Effect.Effect<
    ReadonlyArray<ExecutionRow>,
    StorageError
  >
}

const ORDER = "ORDER BY priority DESC, start_at, execution_id"

/** @since 0.1.0 */
export const make = (parts: FlowParts): StorageDriver.Transaction["dueReadyFlow"] => {
  const { columns, skipLocked, sql, table } = parts
  const order = sql.literal(ORDER)
  const lock = (taskId: string) =>
    parts.dialect === "pg"
      ? run("claim", sql`SELECT pg_advisory_xact_lock(hashtextextended(${`${parts.tableName}:${taskId}`}, 0))`)
      : Effect.void
  const counts = (taskId: string) =>
    Effect.map(
      run(
        "claim",
        sql`SELECT concurrency_key AS k, COUNT(*) AS n FROM ${table} WHERE status = 'running'
          AND task_id = ${taskId} GROUP BY concurrency_key`
      ),
      (records): FlowControl.RunningCounts => {
        let total = 0
        const byKey = new Map<string | null, number>()
        for (const r of records) {
          const n = Number(r["n"])
          total += n
          byKey.set(r["k"] === null ? null : String(r["k"]), n)
        }
        return { total, byKey }
      }
    )
  /** Round `round` of a keyed claim: the due row at that place of each key not in `full`. */
  const keyedRound = (taskId: string, nowMs: number, round: number, full: ReadonlyArray<string>) =>
    parts.rows(
      "claim",
      sql`WITH RECURSIVE keys(k) AS (
          SELECT (SELECT MIN(concurrency_key) FROM ${table} WHERE status = 'ready' AND task_id = ${taskId}
            AND concurrency_key IS NOT NULL)
          UNION ALL
          SELECT (SELECT MIN(concurrency_key) FROM ${table} WHERE status = 'ready' AND task_id = ${taskId}
            AND concurrency_key > keys.k) FROM keys WHERE keys.k IS NOT NULL)
        SELECT ${columns} FROM ${table} WHERE execution_id IN (
          SELECT (SELECT f.execution_id FROM ${table} f WHERE f.status = 'ready' AND f.task_id = ${taskId}
            AND f.concurrency_key = keys.k AND f.start_at <= ${nowMs}
            ORDER BY f.priority DESC, f.start_at, f.execution_id LIMIT 1 OFFSET ${round})
          FROM keys WHERE keys.k IS NOT NULL${
        full.length === 0 ? sql.literal("") : sql` AND NOT (${parts.anyOf("keys.k", full)})`
      })${skipLocked}`
    )
  const unkeyed = (taskId: string, nowMs: number, limit: number, keyless: boolean) =>
    parts.rows(
      "claim",
      sql`SELECT ${columns} FROM ${table} WHERE status = 'ready' AND task_id = ${taskId}
        AND start_at <= ${nowMs}${sql.literal(keyless ? " AND concurrency_key IS NULL" : "")}
        ${order} LIMIT ${limit}${skipLocked}`
    )

  return ({ limits, nowMs, slots, taskId }) =>
    Effect.gen(function*() {
      yield* lock(taskId)
      const running = yield* counts(taskId)
      const wanted = Math.min(slots, FlowControl.freeForTask(limits, running))
      const candidates: Array<FlowControl.Candidate> = []
      if (wanted <= 0) return { candidates, running }
      if (limits.perKey === undefined) {
        for (const row of yield* unkeyed(taskId, nowMs, wanted, false)) candidates.push({ row, rank: 0 })
        return { candidates, running }
      }
      const perKey = limits.perKey
      const freeNull = Math.min(wanted, FlowControl.freeForKey(limits, running, null))
      if (freeNull > 0) {
        const rows = yield* unkeyed(taskId, nowMs, freeNull, true)
        rows.forEach((row, rank) => candidates.push({ row, rank }))
      }
      let keyed = 0
      for (let round = 0; round < perKey && keyed < wanted; round++) {
        const full: Array<string> = []
        for (const [key, n] of running.byKey) if (key !== null && n >= perKey - round) full.push(key)
        const rows = yield* keyedRound(taskId, nowMs, round, full)
        if (rows.length === 0) break
        keyed += rows.length
        for (const row of rows) candidates.push({ row, rank: round })
      }
      return { candidates, running }
    })
}
