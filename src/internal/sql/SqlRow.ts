/**
 * The SQL shape of an {@link ExecutionRow}: one column per field, JSON text for values, children,
 * retry options, specs and errors, and integer milliseconds. Rows are decoded with Schema at the
 * edge: Postgres returns `bigint` as a string (and `jsonb` already parsed), SQLite returns 0/1 for
 * booleans, so the decoders accept each driver's form.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type { ExecutionRow } from "../../ExecutionRow.js"
import { TASK_STATUSES } from "../../TaskStatus.js"

/** How a column is stored. `int4`/`int8` differ only in Postgres. @since 0.1.0 */
export type ColumnKind = "text" | "int4" | "int8" | "bool" | "json"

/** @since 0.1.0 */
export interface Column {
  readonly name: string
  readonly kind: ColumnKind
  readonly nullable: boolean
  /** Written by every update (the small, often-changing fields); the others only when they change. */
  readonly hot: boolean
  readonly get: (row: ExecutionRow) => unknown
}

const col = (
  name: string,
  kind: ColumnKind,
  get: (row: ExecutionRow) => unknown,
  flags: { readonly nullable?: boolean; readonly hot?: boolean } = {}
): Column => ({ name, kind, get, nullable: flags.nullable ?? false, hot: flags.hot ?? false })

/** Every column, in table order; `execution_id` first. @since 0.1.0 */
export const COLUMNS: ReadonlyArray<Column> = [
  col("execution_id", "text", (r) => r.executionId),
  col("task_id", "text", (r) => r.taskId),
  col("root_execution_id", "text", (r) => r.rootExecutionId, { nullable: true }),
  col("root_task_id", "text", (r) => r.rootTaskId, { nullable: true }),
  col("parent_execution_id", "text", (r) => r.parentExecutionId, { nullable: true }),
  col("parent_task_id", "text", (r) => r.parentTaskId, { nullable: true }),
  col("index_in_parent", "int4", (r) => r.indexInParent),
  col("is_finalize", "bool", (r) => r.isFinalize),
  col("status", "text", (r) => r.status, { hot: true }),
  col("is_closed", "bool", (r) => r.isClosed, { hot: true }),
  col("needs_promise_cancellation", "bool", (r) => r.needsPromiseCancellation, { hot: true }),
  col("input", "text", (r) => r.input, { nullable: true }),
  col("run_output", "text", (r) => r.runOutput, { nullable: true }),
  col("output", "text", (r) => r.output, { nullable: true }),
  col("children", "json", (r) => r.children.map((c) => ({ taskId: c.taskId, executionId: c.executionId }))),
  col("completed_children", "int4", (r) => r.completedChildren, { hot: true }),
  col("finalize", "json", (r) =>
    r.finalize === null ? null : {
      taskId: r.finalize.taskId,
      timeoutMs: r.finalize.timeoutMs,
      retry: retryJson(r.finalize.retry),
      sleepMsBeforeRun: r.finalize.sleepMsBeforeRun
    }, { nullable: true }),
  col("finalize_execution_id", "text", (r) => r.finalizeExecutionId, { nullable: true, hot: true }),
  col("error", "json", (r) => errorJson(r.error), { nullable: true, hot: true }),
  col("prev_error", "json", (r) => errorJson(r.prevError), { nullable: true, hot: true }),
  col("timeout_ms", "int8", (r) => r.timeoutMs),
  col("retry", "json", (r) => retryJson(r.retry)),
  col("sleep_ms_before_run", "int8", (r) => r.sleepMsBeforeRun),
  col("retry_attempts", "int4", (r) => r.retryAttempts, { hot: true }),
  col("start_at", "int8", (r) => r.startAt, { hot: true }),
  col("lease_id", "text", (r) => r.leaseId, { nullable: true, hot: true }),
  col("executor_id", "text", (r) => r.executorId, { nullable: true, hot: true }),
  col("expires_at", "int8", (r) => r.expiresAt, { nullable: true, hot: true }),
  col("started_at", "int8", (r) => r.startedAt, { nullable: true, hot: true }),
  col("finished_at", "int8", (r) => r.finishedAt, { nullable: true, hot: true }),
  col("created_at", "int8", (r) => r.createdAt),
  col("updated_at", "int8", (r) => r.updatedAt, { hot: true })
]

function retryJson(r: ExecutionRow["retry"]) {
  return { maxAttempts: r.maxAttempts, baseDelayMs: r.baseDelayMs, delayMultiplier: r.delayMultiplier, maxDelayMs: r.maxDelayMs }
}

function errorJson(e: ExecutionRow["error"]) {
  return e === null ? null : { errorType: e.errorType, message: e.message, isRetryable: e.isRetryable }
}

/** The columns every update writes, `execution_id` first. @since 0.1.0 */
export const HOT_COLUMNS: ReadonlyArray<Column> = [COLUMNS[0]!, ...COLUMNS.filter((c) => c.hot)]

/** Every column but `execution_id` and the row's identity, for updates that change large fields. @since 0.1.0 */
export const FULL_UPDATE_COLUMNS: ReadonlyArray<Column> = COLUMNS

/** Column names joined for a SELECT list. @since 0.1.0 */
export const SELECT_LIST = COLUMNS.map((c) => c.name).join(", ")

/** True when only hot columns differ between `before` and `after` (by value for scalars, by reference for objects). @since 0.1.0 */
export const onlyHotChanged = (before: ExecutionRow, after: ExecutionRow): boolean =>
  before.executionId === after.executionId && before.taskId === after.taskId &&
  before.rootExecutionId === after.rootExecutionId && before.rootTaskId === after.rootTaskId &&
  before.parentExecutionId === after.parentExecutionId && before.parentTaskId === after.parentTaskId &&
  before.indexInParent === after.indexInParent && before.isFinalize === after.isFinalize &&
  before.input === after.input && before.runOutput === after.runOutput && before.output === after.output &&
  before.children === after.children && before.finalize === after.finalize &&
  before.timeoutMs === after.timeoutMs && before.retry === after.retry &&
  before.sleepMsBeforeRun === after.sleepMsBeforeRun && before.createdAt === after.createdAt

/**
 * Splits a transaction's updated rows into those where only hot columns (status, lease, times,
 * counters) changed since they were read — written with the narrow UPDATE — and the rest.
 */
export const partitionUpdates = (
  updated: ReadonlyArray<ExecutionRow>,
  seen: ReadonlyMap<string, ExecutionRow>
): { readonly hot: ReadonlyArray<ExecutionRow>; readonly full: ReadonlyArray<ExecutionRow> } => {
  const hot: Array<ExecutionRow> = []
  const full: Array<ExecutionRow> = []
  for (const row of updated) {
    const before = seen.get(row.executionId)
    if (before !== undefined && onlyHotChanged(before, row)) hot.push(row)
    else full.push(row)
  }
  return { hot, full }
}

/**
 * The value bound for column `c` of `row`: JSON text for json columns; booleans as given
 * (`boolAsInt` turns them into 0/1 for SQLite).
 *
 * @since 0.1.0
 */
export const paramOf = (c: Column, row: ExecutionRow, boolAsInt: boolean): unknown => {
  const value = c.get(row)
  switch (c.kind) {
    case "json":
      return value === null ? null : JSON.stringify(value)
    case "bool":
      return boolAsInt ? (value ? 1 : 0) : value
    default:
      return value
  }
}

// ---- decoding ----

/** SQLite: integers are numbers, booleans 0/1. Postgres: `bigint` comes as a numeric string. */
const Int4 = Schema.Int
const Int8Pg = Schema.Union(Schema.NumberFromString.pipe(Schema.int()), Schema.Int)
const BoolSqlite = Schema.transform(Schema.Literal(0, 1), Schema.Boolean, { strict: true, decode: (n) => n === 1, encode: (b) => (b ? 1 : 0) })

/** A JSON column (stored as text). */
const Json = <A, I>(schema: Schema.Schema<A, I>) => Schema.parseJson(schema)

const RetryOptionsSchema = Schema.Struct({
  maxAttempts: Schema.Number,
  baseDelayMs: Schema.Number,
  delayMultiplier: Schema.Number,
  maxDelayMs: Schema.Number
})
const ExecutionErrorSchema = Schema.Struct({
  errorType: Schema.Literal("generic", "not_found", "timed_out", "cancelled"),
  message: Schema.String,
  isRetryable: Schema.Boolean
})
const TaskSpecSchema = Schema.Struct({
  taskId: Schema.String,
  timeoutMs: Schema.Number,
  retry: RetryOptionsSchema,
  sleepMsBeforeRun: Schema.Number
})
const ChildrenSchema = Schema.Array(Schema.Struct({ taskId: Schema.String, executionId: Schema.String }))
const NullableText = Schema.NullOr(Schema.String)

/**
 * A stored row as the driver returns it (snake_case columns). Decoding is field by field with
 * plain schemas; the rename to {@link ExecutionRow} is done by hand, which is several times faster
 * than `Schema.fromKey` on every field (decoding sits on the claim and finish paths).
 *
 * @since 0.1.0
 */
const storedRow = <I8, B>(Int8: Schema.Schema<number, I8>, Bool: Schema.Schema<boolean, B>) => Schema.Struct({
  execution_id: Schema.String,
  task_id: Schema.String,
  root_execution_id: NullableText,
  root_task_id: NullableText,
  parent_execution_id: NullableText,
  parent_task_id: NullableText,
  index_in_parent: Int4,
  is_finalize: Bool,
  status: Schema.Literal(...TASK_STATUSES),
  is_closed: Bool,
  needs_promise_cancellation: Bool,
  input: NullableText,
  run_output: NullableText,
  output: NullableText,
  children: Json(ChildrenSchema),
  completed_children: Int4,
  finalize: Schema.NullOr(Json(TaskSpecSchema)),
  finalize_execution_id: NullableText,
  error: Schema.NullOr(Json(ExecutionErrorSchema)),
  prev_error: Schema.NullOr(Json(ExecutionErrorSchema)),
  timeout_ms: Int8,
  retry: Json(RetryOptionsSchema),
  sleep_ms_before_run: Int8,
  retry_attempts: Int4,
  start_at: Int8,
  lease_id: NullableText,
  executor_id: NullableText,
  expires_at: Schema.NullOr(Int8),
  started_at: Schema.NullOr(Int8),
  finished_at: Schema.NullOr(Int8),
  created_at: Int8,
  updated_at: Int8
})

/** The stored row schemas of each dialect. @since 0.1.0 */
export const StoredRow = {
  sqlite: storedRow(Schema.Int, BoolSqlite),
  pg: storedRow(Int8Pg, Schema.Boolean)
} as const

const toExecutionRow = (r: typeof StoredRow.sqlite.Type): ExecutionRow => ({
  executionId: r.execution_id,
  taskId: r.task_id,
  rootExecutionId: r.root_execution_id,
  rootTaskId: r.root_task_id,
  parentExecutionId: r.parent_execution_id,
  parentTaskId: r.parent_task_id,
  indexInParent: r.index_in_parent,
  isFinalize: r.is_finalize,
  status: r.status,
  isClosed: r.is_closed,
  needsPromiseCancellation: r.needs_promise_cancellation,
  input: r.input,
  runOutput: r.run_output,
  output: r.output,
  children: r.children,
  completedChildren: r.completed_children,
  finalize: r.finalize,
  finalizeExecutionId: r.finalize_execution_id,
  error: r.error,
  prevError: r.prev_error,
  timeoutMs: r.timeout_ms,
  retry: r.retry,
  sleepMsBeforeRun: r.sleep_ms_before_run,
  retryAttempts: r.retry_attempts,
  startAt: r.start_at,
  leaseId: r.lease_id,
  executorId: r.executor_id,
  expiresAt: r.expires_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at
})

const decoders = {
  sqlite: Schema.decodeUnknownEither(StoredRow.sqlite),
  pg: Schema.decodeUnknownEither(StoredRow.pg)
} as const

/**
 * Decodes driver rows; a row that does not decode yields a message naming it.
 *
 * @since 0.1.0
 */
export const decodeRows = (
  dialect: "pg" | "sqlite",
  records: ReadonlyArray<unknown>
): Either.Either<ReadonlyArray<ExecutionRow>, string> => {
  const decodeEither = decoders[dialect]
  const out: Array<ExecutionRow> = []
  for (const record of records) {
    const decoded = decodeEither(record)
    if (Either.isLeft(decoded)) {
      const id = typeof record === "object" && record !== null && "execution_id" in record ? String(record.execution_id) : "?"
      return Either.left(`stored execution ${id} does not decode: ${ParseResult.TreeFormatter.formatErrorSync(decoded.left)}`)
    }
    out.push(toExecutionRow(decoded.right))
  }
  return Either.right(out)
}
