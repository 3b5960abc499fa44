/**
 * Schedules in SQL (`ScheduleStorage` on `@effect/sql` tagged templates, both dialects), in the
 * storage's `<prefix>schedules` table. A tick fires in one transaction: a compare-and-set of the
 * schedule's revision (`UPDATE … WHERE revision = ?`, which on Postgres waits for a concurrent one
 * and then matches nothing), then the insert of its executions through the storage's own insert,
 * nested in that transaction.
 *
 * @since 0.1.0
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import type { Fragment } from "@effect/sql/Statement"
import * as Effect from "effect/Effect"
import { CATCH_UP_MODES, type CatchUp, type ScheduleRow } from "../../CronSchedule.js"
import { StorageError } from "../../EngineError.js"
import { ScheduleStorage } from "../../ScheduleStorage.js"
import type { TaskStorage } from "../../TaskStorage.js"
import { Wakeup } from "../executor/Wakeup.js"
import { run, type SqlNames, toStorageError } from "./SqlCommon.js"
import { withImmediateTransaction } from "./SqliteBackend.js"

const COLUMNS = "schedule_id, task_id, cron, timezone, input, catch_up, paused, next_tick_at, revision, " +
  "created_at, updated_at"

const int = (value: unknown): number | undefined => {
  const n = typeof value === "string" ? Number(value) : value
  return typeof n === "number" && Number.isSafeInteger(n) ? n : undefined
}

/** Decodes one stored row (Postgres `bigint` comes back as a string, SQLite booleans as 0 or 1). */
const decode = (op: string) => (record: unknown): Effect.Effect<ScheduleRow, StorageError> => {
  const r = record as Record<string, unknown>
  const nextTickAt = int(r.next_tick_at)
  const revision = int(r.revision)
  const createdAt = int(r.created_at)
  const updatedAt = int(r.updated_at)
  const catchUp = r.catch_up as CatchUp
  if (
    typeof r.schedule_id !== "string" || typeof r.task_id !== "string" || typeof r.cron !== "string" ||
    typeof r.timezone !== "string" || (r.input !== null && typeof r.input !== "string") ||
    !CATCH_UP_MODES.includes(catchUp) || nextTickAt === undefined || revision === undefined ||
    createdAt === undefined || updatedAt === undefined
  ) {
    return Effect.fail(
      new StorageError({ op, message: `storage ${op}: malformed schedule row ${String(r.schedule_id)}` })
    )
  }
  return Effect.succeed({
    scheduleId: r.schedule_id,
    taskId: r.task_id,
    cron: r.cron,
    timezone: r.timezone,
    input: r.input as string | null,
    catchUp,
    paused: r.paused === true || r.paused === 1 || r.paused === 1n,
    nextTickAt,
    revision,
    createdAt,
    updatedAt
  })
}

/**
 * The schedules of the storage named by `names`, over `sql` (Postgres or SQLite, without name
 * transforms); ticks are inserted with `storage.insert`, which joins the tick's transaction.
 *
 * @since 0.1.0
 */
export const make = (
  sql: SqlClient.SqlClient,
  names: SqlNames,
  storage: TaskStorage["Type"]
): ScheduleStorage["Type"] => {
  const table = sql.literal(names.schedulesTable)
  const columns = sql.literal(COLUMNS)
  const changed = new Wakeup()
  const immediate = withImmediateTransaction(sql)
  /** SQLite: `BEGIN IMMEDIATE` (the write lock at once, across processes too). */
  const withTransaction = <A, E>(self: Effect.Effect<A, E>): Effect.Effect<A, E | SqlError> =>
    sql.onDialectOrElse({ sqlite: () => immediate(self), orElse: () => sql.withTransaction(self) })
  /** `task_id` is one of `taskIds`. */
  const taskIdIn = (taskIds: ReadonlySet<string>): Fragment =>
    sql.onDialectOrElse({
      sqlite: () => sql`task_id IN (SELECT value FROM json_each(${JSON.stringify(Array.from(taskIds))}))`,
      orElse: () => sql`task_id = ANY(${Array.from(taskIds)}::text[])`
    })
  const rows = (op: string, statement: Effect.Effect<ReadonlyArray<unknown>, SqlError>) =>
    Effect.flatMap(run(op, statement), (list) => Effect.forEach(list, decode(op)))
  const first = (op: string, statement: Effect.Effect<ReadonlyArray<unknown>, SqlError>) =>
    Effect.map(rows(op, statement), (list) => list[0])
  const notifying = <A, E>(self: Effect.Effect<A, E>) => Effect.tap(self, () => Effect.sync(() => changed.notify()))

  return ScheduleStorage.of({
    upsert: (row) =>
      notifying(Effect.flatMap(
        first(
          "upsertSchedule",
          sql`INSERT INTO ${table} AS s (${columns}) VALUES (${row.scheduleId}, ${row.taskId}, ${row.cron},
            ${row.timezone}, ${row.input}, ${row.catchUp}, FALSE, ${row.nextTickAt}, 1, ${row.createdAt},
            ${row.updatedAt})
          ON CONFLICT (schedule_id) DO UPDATE SET task_id = excluded.task_id, cron = excluded.cron,
            timezone = excluded.timezone, input = excluded.input, catch_up = excluded.catch_up,
            next_tick_at = CASE WHEN s.cron = excluded.cron AND s.timezone = excluded.timezone
              THEN s.next_tick_at ELSE excluded.next_tick_at END,
            revision = s.revision + 1, updated_at = excluded.updated_at
          RETURNING ${columns}`
        ),
        (stored) =>
          stored === undefined
            ? Effect.fail(new StorageError({ op: "upsertSchedule", message: "storage upsertSchedule returned no row" }))
            : Effect.succeed(stored)
      )),
    get: (id) => first("getSchedule", sql`SELECT ${columns} FROM ${table} WHERE schedule_id = ${id}`),
    list: rows("listSchedules", sql`SELECT ${columns} FROM ${table} ORDER BY schedule_id`),
    setPaused: ({ nextTickAt, nowMs, paused, scheduleId }) =>
      notifying(Effect.gen(function*() {
        const updated = paused
          ? yield* first(
            "pauseSchedule",
            sql`UPDATE ${table} SET paused = TRUE, revision = revision + 1, updated_at = ${nowMs}
              WHERE schedule_id = ${scheduleId} RETURNING ${columns}`
          )
          : yield* first(
            "resumeSchedule",
            sql`UPDATE ${table} SET paused = FALSE, next_tick_at = ${nextTickAt ?? 0}, revision = revision + 1,
              updated_at = ${nowMs} WHERE schedule_id = ${scheduleId} AND paused = TRUE RETURNING ${columns}`
          )
        return updated ??
          (yield* first("getSchedule", sql`SELECT ${columns} FROM ${table} WHERE schedule_id = ${scheduleId}`))
      })),
    remove: (id) =>
      notifying(Effect.map(
        run("deleteSchedule", sql`DELETE FROM ${table} WHERE schedule_id = ${id} RETURNING schedule_id`),
        (deleted) => deleted.length > 0
      )),
    due: ({ limit, nowMs, taskIds }) =>
      taskIds.size === 0 ? Effect.succeed([]) : rows(
        "dueSchedules",
        sql`SELECT ${columns} FROM ${table} WHERE paused = FALSE AND next_tick_at <= ${nowMs} AND ${taskIdIn(taskIds)}
          ORDER BY next_tick_at, schedule_id LIMIT ${limit}`
      ),
    nextTickAt: (taskIds) =>
      taskIds.size === 0 ? Effect.succeed(null) : Effect.map(
        run(
          "nextTick",
          sql`SELECT MIN(next_tick_at) AS next FROM ${table} WHERE paused = FALSE AND ${taskIdIn(taskIds)}`
        ),
        (list) => int(list[0]?.next) ?? null
      ),
    fire: (request) =>
      withTransaction(Effect.gen(function*() {
        const advanced = yield* run(
          "fireSchedule",
          sql`UPDATE ${table} SET next_tick_at = ${request.nextTickAt}, revision = revision + 1,
            updated_at = ${request.nowMs}
            WHERE schedule_id = ${request.scheduleId} AND revision = ${request.revision} AND paused = FALSE
            RETURNING schedule_id`
        )
        if (advanced.length === 0) return false
        const stored = new Set(
          (yield* storage.getMany(request.rows.map((r) => r.executionId))).map((r) => r.executionId)
        )
        const fresh = request.rows.filter((r) => !stored.has(r.executionId))
        if (fresh.length > 0) yield* Effect.catchTag(storage.insert(fresh), "DuplicateExecution", () => Effect.void)
        return true
      })).pipe(
        Effect.catchAll((e) => Effect.fail(e instanceof StorageError ? e : toStorageError("fireSchedule")(e))),
        // @effect/sql turns a failed COMMIT or ROLLBACK into a defect: it is a storage failure here.
        Effect.catchAllDefect((defect) =>
          defect instanceof SqlError ? Effect.fail(toStorageError("commit")(defect)) : Effect.die(defect)
        )
      ),
    changed
  })
}
