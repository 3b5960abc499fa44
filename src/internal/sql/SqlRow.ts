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

const BigIntToNumber = Schema.transformOrFail(Schema.BigIntFromSelf, Schema.Number, {
  strict: true,
  decode: (n, _, ast) =>
    n <= BigInt(Number.MAX_SAFE_INTEGER) && n >= BigInt(Number.MIN_SAFE_INTEGER)
      ? ParseResult.succeed(Number(n))
      : ParseResult.fail(new ParseResult.Type(ast, n, "integer out of the safe range")),
  encode: (n) => ParseResult.succeed(BigInt(n))
})
/** An integer column: a number (SQLite), a numeric string (Postgres `bigint`), or a bigint. */
const Int = Schema.Union(Schema.Number, Schema.NumberFromString, BigIntToNumber).pipe(Schema.int())
const Bool = Schema.Union(
  Schema.Boolean,
  Schema.transform(Schema.Literal(0, 1), Schema.Boolean, { strict: true, decode: (n) => n === 1, encode: (b) => (b ? 1 : 0) })
)
/** A JSON column: text, or already parsed (Postgres `json`/`jsonb`). */
const Json = <A, I>(schema: Schema.Schema<A, I>) => Schema.Union(Schema.parseJson(schema), schema)

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

const field = <A, I>(schema: Schema.Schema<A, I>, key: string) => Schema.propertySignature(schema).pipe(Schema.fromKey(key))

/**
 * A stored row, from the driver's snake_case record to an {@link ExecutionRow}.
 *
 * @since 0.1.0
 */
export const RowFromColumns = Schema.Struct({
  executionId: field(Schema.String, "execution_id"),
  taskId: field(Schema.String, "task_id"),
  rootExecutionId: field(Schema.NullOr(Schema.String), "root_execution_id"),
  rootTaskId: field(Schema.NullOr(Schema.String), "root_task_id"),
  parentExecutionId: field(Schema.NullOr(Schema.String), "parent_execution_id"),
  parentTaskId: field(Schema.NullOr(Schema.String), "parent_task_id"),
  indexInParent: field(Int, "index_in_parent"),
  isFinalize: field(Bool, "is_finalize"),
  status: field(Schema.Literal(...TASK_STATUSES), "status"),
  isClosed: field(Bool, "is_closed"),
  needsPromiseCancellation: field(Bool, "needs_promise_cancellation"),
  input: field(Schema.NullOr(Schema.String), "input"),
  runOutput: field(Schema.NullOr(Schema.String), "run_output"),
  output: field(Schema.NullOr(Schema.String), "output"),
  children: field(Json(ChildrenSchema), "children"),
  completedChildren: field(Int, "completed_children"),
  finalize: field(Schema.NullOr(Json(TaskSpecSchema)), "finalize"),
  finalizeExecutionId: field(Schema.NullOr(Schema.String), "finalize_execution_id"),
  error: field(Schema.NullOr(Json(ExecutionErrorSchema)), "error"),
  prevError: field(Schema.NullOr(Json(ExecutionErrorSchema)), "prev_error"),
  timeoutMs: field(Int, "timeout_ms"),
  retry: field(Json(RetryOptionsSchema), "retry"),
  sleepMsBeforeRun: field(Int, "sleep_ms_before_run"),
  retryAttempts: field(Int, "retry_attempts"),
  startAt: field(Int, "start_at"),
  leaseId: field(Schema.NullOr(Schema.String), "lease_id"),
  executorId: field(Schema.NullOr(Schema.String), "executor_id"),
  expiresAt: field(Schema.NullOr(Int), "expires_at"),
  startedAt: field(Schema.NullOr(Int), "started_at"),
  finishedAt: field(Schema.NullOr(Int), "finished_at"),
  createdAt: field(Int, "created_at"),
  updatedAt: field(Int, "updated_at")
})

const decodeEither = Schema.decodeUnknownEither(RowFromColumns)

/**
 * Decodes driver rows; a row that does not decode yields a message naming it.
 *
 * @since 0.1.0
 */
export const decodeRows = (records: ReadonlyArray<unknown>): Either.Either<ReadonlyArray<ExecutionRow>, string> => {
  const out: Array<ExecutionRow> = []
  for (const record of records) {
    const decoded = decodeEither(record)
    if (Either.isLeft(decoded)) {
      const id = typeof record === "object" && record !== null && "execution_id" in record ? String(record.execution_id) : "?"
      return Either.left(`stored execution ${id} does not decode: ${ParseResult.TreeFormatter.formatErrorSync(decoded.left)}`)
    }
    out.push(decoded.right)
  }
  return Either.right(out)
}
