/**
 * The SQL shape of an {@link ExecutionRow}, from one column table ({@link COLUMN_TABLE}): each
 * field's SQL name, how it is stored, whether it changes after insert, and its Schema. The select
 * lists, the inserts and updates (`SqlBackend`), and the row codec below are all derived from it;
 * the frozen migrations (`migrations/`) are checked against it by a test.
 *
 * Values (input, outputs) are JSON text already; children, retry options, specs and errors are
 * stored as JSON text, times as integer milliseconds. Rows are decoded with Schema at the edge:
 * Postgres returns `bigint` as a string, SQLite returns 0/1 for booleans, so the decoders accept
 * each driver's form.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type * as SchemaAST from "effect/SchemaAST"
import {
  AttemptHistorySchema,
  ExecutionErrorSchema,
  ExecutionRefSchema,
  type ExecutionRow,
  TaskSpecSchema
} from "../../ExecutionRow.js"
import { RetryOptionsSchema } from "../../RetryOptions.js"
import { TASK_STATUSES } from "../../TaskStatus.js"

/** How a column is stored. `int4`/`int8` differ only in Postgres. @since 0.1.0 */
export type ColumnKind = "text" | "int4" | "int8" | "bool" | "json"

/**
 * When a column changes after insert: `never`; `often` (status, lease, times, counters: written by
 * every update); `rarely` (outputs, children, finalize: written only by the full update, chosen when
 * one of them changed).
 *
 * @since 0.1.0
 */
export type ColumnChanges = "never" | "often" | "rarely"

/** One column of the table: a field of {@link ExecutionRow} and how it is stored. @since 0.1.0 */
export interface ColumnDef<A, SqlName extends string = string> {
  readonly sqlName: SqlName
  readonly kind: ColumnKind
  readonly nullable: boolean
  readonly changes: ColumnChanges
  /** The field's value (without `null`): the JSON value for `json` columns. */
  readonly schema: Schema.Schema<NonNullable<A>, any>
}

const col = <A, const N extends string>(
  sqlName: N,
  kind: ColumnKind,
  schema: Schema.Schema<A, any>,
  changes: ColumnChanges = "never"
) => ({ sqlName, kind, schema, changes, nullable: false }) as ColumnDef<A, N>
const nullable = <A, N extends string>(c: ColumnDef<A, N>) => ({ ...c, nullable: true }) as ColumnDef<A | null, N>

/**
 * Every field of {@link ExecutionRow} and its column, in table order (`execution_id` first). The
 * `satisfies` clause makes a field without a column a type error.
 *
 * @since 0.1.0
 */
export const COLUMN_TABLE = {
  executionId: col("execution_id", "text", Schema.String),
  taskId: col("task_id", "text", Schema.String),
  rootExecutionId: nullable(col("root_execution_id", "text", Schema.String)),
  rootTaskId: nullable(col("root_task_id", "text", Schema.String)),
  parentExecutionId: nullable(col("parent_execution_id", "text", Schema.String)),
  parentTaskId: nullable(col("parent_task_id", "text", Schema.String)),
  indexInParent: col("index_in_parent", "int4", Schema.Int),
  isFinalize: col("is_finalize", "bool", Schema.Boolean),
  status: col("status", "text", Schema.Literal(...TASK_STATUSES), "often"),
  isClosed: col("is_closed", "bool", Schema.Boolean, "often"),
  needsPromiseCancellation: col("needs_promise_cancellation", "bool", Schema.Boolean, "often"),
  input: nullable(col("input", "text", Schema.String)),
  runOutput: nullable(col("run_output", "text", Schema.String, "rarely")),
  output: nullable(col("output", "text", Schema.String, "rarely")),
  children: col("children", "json", Schema.Array(ExecutionRefSchema), "rarely"),
  completedChildren: col("completed_children", "int4", Schema.Int, "often"),
  finalize: nullable(col("finalize", "json", TaskSpecSchema, "rarely")),
  finalizeExecutionId: nullable(col("finalize_execution_id", "text", Schema.String, "often")),
  error: nullable(col("error", "json", ExecutionErrorSchema, "often")),
  prevError: nullable(col("prev_error", "json", ExecutionErrorSchema, "often")),
  timeoutMs: col("timeout_ms", "int8", Schema.Int),
  retry: col("retry", "json", RetryOptionsSchema),
  sleepMsBeforeRun: col("sleep_ms_before_run", "int8", Schema.Int),
  retryAttempts: col("retry_attempts", "int4", Schema.Int, "often"),
  startAt: col("start_at", "int8", Schema.Int, "often"),
  leaseId: nullable(col("lease_id", "text", Schema.String, "often")),
  executorId: nullable(col("executor_id", "text", Schema.String, "often")),
  expiresAt: nullable(col("expires_at", "int8", Schema.Int, "often")),
  startedAt: nullable(col("started_at", "int8", Schema.Int, "often")),
  finishedAt: nullable(col("finished_at", "int8", Schema.Int, "often")),
  createdAt: col("created_at", "int8", Schema.Int),
  updatedAt: col("updated_at", "int8", Schema.Int, "often"),
  idempotencyKey: nullable(col("idempotency_key", "text", Schema.String)),
  // "rarely": up to 20 attempts with stacks stay out of the narrow update that claims write.
  attempts: nullable(col("attempts", "json", AttemptHistorySchema, "rarely")),
  traceContext: nullable(col("trace_context", "text", Schema.String))
} satisfies { readonly [K in keyof ExecutionRow]-?: ColumnDef<ExecutionRow[K]> }

/** A column with its field name. @since 0.1.0 */
export interface Column extends ColumnDef<unknown> {
  readonly field: keyof ExecutionRow
}

/** Every column, in table order; `execution_id` first. @since 0.1.0 */
export const COLUMNS: ReadonlyArray<Column> = Object.entries(COLUMN_TABLE).map(([field, c]) => ({
  ...(c as ColumnDef<unknown>),
  field: field as keyof ExecutionRow
}))

/** The columns every update writes, `execution_id` first. @since 0.1.0 */
export const HOT_COLUMNS: ReadonlyArray<Column> = [COLUMNS[0]!, ...COLUMNS.filter((c) => c.changes === "often")]

/** Column names joined for a SELECT list. @since 0.1.0 */
export const SELECT_LIST = COLUMNS.map((c) => c.sqlName).join(", ")

/**
 * True when only the `often` columns differ between `before` and `after` (by value for scalars, by
 * reference for objects), so that the narrow UPDATE writes every change.
 *
 * Written out by hand, and checked against {@link COLUMN_TABLE} by a test (`test/SqlRow.test.ts`
 * changes each field alone): a loop over the table's fields measured 1.1 µs per row against
 * 0.07 µs for this (64 rows: 68 µs against 4.3 µs; keyed loads with varying keys are megamorphic).
 *
 * @since 0.1.0
 */
export const onlyHotChanged = (before: ExecutionRow, after: ExecutionRow): boolean =>
  before.executionId === after.executionId && before.taskId === after.taskId &&
  before.rootExecutionId === after.rootExecutionId && before.rootTaskId === after.rootTaskId &&
  before.parentExecutionId === after.parentExecutionId && before.parentTaskId === after.parentTaskId &&
  before.indexInParent === after.indexInParent && before.isFinalize === after.isFinalize &&
  before.input === after.input && before.runOutput === after.runOutput && before.output === after.output &&
  before.children === after.children && before.finalize === after.finalize &&
  before.timeoutMs === after.timeoutMs && before.retry === after.retry &&
  before.sleepMsBeforeRun === after.sleepMsBeforeRun && before.createdAt === after.createdAt &&
  before.idempotencyKey === after.idempotencyKey &&
  before.attempts === after.attempts &&
  before.traceContext === after.traceContext

/**
 * Splits a transaction's updated rows into those where only hot columns (status, lease, times,
 * counters) changed since they were read — written with the narrow UPDATE — and the rest.
 *
 * @since 0.1.0
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

/** The SQL dialects of the stored row. @since 0.1.0 */
export type RowDialect = "pg" | "sqlite"

// ---- encoding ----

type Encode = (value: unknown) => unknown

const identity: Encode = (value) => value

/** Every property name of the objects a schema describes, at any depth, in declaration order. */
const propertyNames = (ast: SchemaAST.AST, into: Set<string> = new Set()): Set<string> => {
  switch (ast._tag) {
    case "TypeLiteral":
      for (const p of ast.propertySignatures) {
        if (typeof p.name === "string") into.add(p.name)
        propertyNames(p.type, into)
      }
      break
    case "TupleType":
      for (const e of ast.elements) propertyNames(e.type, into)
      for (const r of ast.rest) propertyNames(r.type, into)
      break
    case "Union":
      for (const t of ast.types) propertyNames(t, into)
      break
    case "Refinement":
      propertyNames(ast.from, into)
      break
    case "Transformation":
      propertyNames(ast.to, into)
      break
    default:
      break
  }
  return into
}

const encoderOf = (c: Column, dialect: RowDialect): Encode => {
  switch (c.kind) {
    case "json": {
      // JSON text with only the column Schema's fields (a finalize spec may carry more), in their
      // order. `JSON.stringify` with a list of names: 64 rows encoded in 450 µs, against 520 µs
      // with `Schema.encodeSync(Schema.parseJson(schema))`, which also checks values already typed.
      const names = Array.from(propertyNames(c.schema.ast))
      return (value) => (value === null ? null : JSON.stringify(value, names))
    }
    case "bool":
      return dialect === "sqlite" ? (value) => (value === null ? null : value ? 1 : 0) : identity
    default:
      return identity
  }
}

const encoders: Record<RowDialect, ReadonlyArray<Encode>> = {
  pg: COLUMNS.map((c) => encoderOf(c, "pg")),
  sqlite: COLUMNS.map((c) => encoderOf(c, "sqlite"))
}

/**
 * The values bound for `columns` (a prefix-ordered subset of {@link COLUMNS}) of `row`, in order.
 *
 * @since 0.1.0
 */
export const paramsOf = (dialect: RowDialect, columns: ReadonlyArray<Column>) => {
  const encode = columns.map((c) => encoders[dialect][COLUMNS.indexOf(c)]!)
  const fields = columns.map((c) => c.field)
  return (row: ExecutionRow): Array<unknown> => {
    const out = new Array<unknown>(fields.length)
    for (let k = 0; k < fields.length; k++) out[k] = encode[k]!(row[fields[k]!])
    return out
  }
}

// ---- decoding ----

/** Postgres: `bigint` comes as a numeric string. SQLite: booleans are 0/1. */
const Int8Pg = Schema.Union(Schema.NumberFromString.pipe(Schema.int()), Schema.Int)
const BoolSqlite = Schema.transform(Schema.Literal(0, 1), Schema.Boolean, {
  strict: true,
  decode: (n) => n === 1,
  encode: (b) => (b ? 1 : 0)
})

const driverSchema = (c: Column, dialect: RowDialect): Schema.Schema.Any => {
  const value = c.schema as Schema.Schema.Any
  const stored: Schema.Schema.Any = c.kind === "json"
    ? Schema.parseJson(value)
    : c.kind === "int8" && dialect === "pg"
    ? Int8Pg
    : c.kind === "bool" && dialect === "sqlite"
    ? BoolSqlite
    : value
  return c.nullable ? Schema.NullOr(stored) : stored
}

type Table = typeof COLUMN_TABLE

/** A decoded stored row: each field's value under its SQL name. @since 0.1.0 */
export type StoredRecord = { readonly [K in keyof Table as Table[K]["sqlName"]]: ExecutionRow[K] }

/**
 * A stored row as the driver returns it (SQL column names). Decoding is column by column with plain
 * schemas, the rename to {@link ExecutionRow} by {@link toExecutionRow}: several times faster than
 * `Schema.fromKey` on every field (decoding sits on the claim and finish paths).
 *
 * @since 0.1.0
 */
export const storedRow = (dialect: RowDialect): Schema.Schema<StoredRecord, unknown> =>
  Schema.Struct(Object.fromEntries(COLUMNS.map((c) => [c.sqlName, driverSchema(c, dialect)]))) as never

/**
 * Renames a decoded row's fields. Written out by hand, and checked against {@link COLUMN_TABLE} by a
 * test (`test/SqlRow.test.ts`): an object built by a loop over the table's names measured 3.3 µs
 * per row against 0.05 µs for this literal (keyed stores with varying keys leave V8's fast path).
 *
 * @since 0.1.0
 */
export const toExecutionRow = (r: StoredRecord): ExecutionRow => ({
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
  updatedAt: r.updated_at,
  idempotencyKey: r.idempotency_key,
  attempts: r.attempts,
  traceContext: r.trace_context
})

const decoders = {
  sqlite: Schema.decodeUnknownEither(storedRow("sqlite")),
  pg: Schema.decodeUnknownEither(storedRow("pg"))
} as const

const idOf = (record: unknown): string =>
  typeof record === "object" && record !== null && "execution_id" in record ? String(record.execution_id) : "?"

/**
 * Decodes driver rows; a row that does not decode yields a message naming it.
 *
 * @since 0.1.0
 */
export const decodeRows = (
  dialect: RowDialect,
  records: ReadonlyArray<unknown>
): Either.Either<ReadonlyArray<ExecutionRow>, string> => {
  const decodeEither = decoders[dialect]
  const out: Array<ExecutionRow> = []
  for (const record of records) {
    const decoded = decodeEither(record)
    if (Either.isLeft(decoded)) {
      const problem = ParseResult.TreeFormatter.formatErrorSync(decoded.left)
      return Either.left(`stored execution ${idOf(record)} does not decode: ${problem}`)
    }
    out.push(toExecutionRow(decoded.right))
  }
  return Either.right(out)
}
