/**
 * The dashboard's JSON API, typed with Schema: what each endpoint returns (times as ISO strings,
 * stored values made JSON-safe by {@link toJsonSafe}).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import type { ExecutionTreeNode } from "../ExecutionTree.js"
import type { TaskExecution } from "../TaskExecution.js"
import { TASK_STATUSES } from "../TaskStatus.js"

const Status = Schema.Literal(...TASK_STATUSES)
const opt = <S extends Schema.Schema.Any>(s: S) => Schema.optionalWith(s, { exact: true })

/** @since 0.1.0 @category schemas */
export const ErrorJson = Schema.Struct({
  errorType: Schema.String,
  message: Schema.String,
  isRetryable: Schema.Boolean,
  stack: opt(Schema.String)
})

/** One execution in a list. @since 0.1.0 @category schemas */
export const ExecutionSummary = Schema.Struct({
  executionId: Schema.String,
  taskId: Schema.String,
  status: Status,
  createdAt: Schema.Date,
  startedAt: opt(Schema.Date),
  finishedAt: opt(Schema.Date),
  error: opt(ErrorJson),
  parentExecutionId: opt(Schema.String),
  rootExecutionId: opt(Schema.String)
})
/** @since 0.1.0 @category models */
export type ExecutionSummary = typeof ExecutionSummary.Type

/** @since 0.1.0 @category schemas */
export const AttemptJson = Schema.Struct({
  attempt: Schema.Number,
  startedAt: Schema.Date,
  finishedAt: Schema.Date,
  executorId: opt(Schema.String),
  status: Status,
  error: opt(ErrorJson)
})

/** One execution, whole. @since 0.1.0 @category schemas */
export const ExecutionDetail = Schema.Struct({
  ...ExecutionSummary.fields,
  input: Schema.Unknown,
  runOutput: opt(Schema.Unknown),
  output: opt(Schema.Unknown),
  startAt: Schema.Date,
  updatedAt: Schema.Date,
  expiresAt: opt(Schema.Date),
  executorId: opt(Schema.String),
  timeoutMs: Schema.Number,
  retryAttempts: Schema.Number,
  attemptCount: Schema.Number,
  attempts: Schema.Array(AttemptJson),
  childExecutionIds: Schema.Array(Schema.String),
  finalizeExecutionId: opt(Schema.String)
})
/** @since 0.1.0 @category models */
export type ExecutionDetail = typeof ExecutionDetail.Type

/** @since 0.1.0 @category models */
export interface TreeJson {
  readonly execution: ExecutionSummary
  readonly children: ReadonlyArray<TreeJson>
  readonly finalize?: TreeJson
}
/** @since 0.1.0 @category models */
export interface TreeJsonEncoded {
  readonly execution: typeof ExecutionSummary.Encoded
  readonly children: ReadonlyArray<TreeJsonEncoded>
  readonly finalize?: TreeJsonEncoded
}
/** An execution tree. @since 0.1.0 @category schemas */
export const TreeJson: Schema.Schema<TreeJson, TreeJsonEncoded> = Schema.Struct({
  execution: ExecutionSummary,
  children: Schema.Array(Schema.suspend((): Schema.Schema<TreeJson, TreeJsonEncoded> => TreeJson)),
  finalize: opt(Schema.suspend((): Schema.Schema<TreeJson, TreeJsonEncoded> => TreeJson))
})

/** @since 0.1.0 @category schemas */
export const ExecutionsPage = Schema.Struct({
  executions: Schema.Array(ExecutionSummary),
  nextCursor: Schema.NullOr(Schema.String)
})

/** Executions started (first run) and finished in one minute. @since 0.1.0 @category schemas */
export const MinuteJson = Schema.Struct({ minute: Schema.Date, started: Schema.Number, finished: Schema.Number })
/** @since 0.1.0 @category models */
export type MinuteJson = typeof MinuteJson.Type

/** @since 0.1.0 @category schemas */
export const Overview = Schema.Struct({
  byStatus: Schema.Record({ key: Schema.String, value: Schema.Number }),
  byTask: Schema.Record({ key: Schema.String, value: Schema.Number }),
  perMinute: Schema.Array(MinuteJson),
  /** True when the per-minute figures come from the first rows only (a busy hour). */
  perMinuteSampled: Schema.Boolean,
  latestFailures: Schema.Array(ExecutionSummary)
})
/** @since 0.1.0 @category models */
export type Overview = typeof Overview.Type

/** The answer of a refused or failed request. @since 0.1.0 @category schemas */
export const ErrorAnswer = Schema.Struct({ error: Schema.String })

/** The result of an action on a selection. @since 0.1.0 @category schemas */
export const ActionResult = Schema.Struct({ matched: Schema.Number, changed: Schema.Number })

/** A stored value as plain JSON: bigints, Maps, Sets, cycles and the like made readable. @since 0.1.0 */
export const toJsonSafe = (value: unknown, ancestors: Array<object> = []): unknown => {
  switch (typeof value) {
    case "bigint":
      return `${value}n`
    case "undefined":
      return null
    case "function":
    case "symbol":
      return String(value)
    case "number":
      return Number.isFinite(value) ? value : String(value)
    case "object": {
      if (value === null) return null
      if (ancestors.includes(value)) return "[circular]"
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString()
      if (value instanceof Error) return { name: value.name, message: value.message }
      const inner = [...ancestors, value]
      if (value instanceof Map) {
        return { $map: [...value].map(([k, v]) => [toJsonSafe(k, inner), toJsonSafe(v, inner)]) }
      }
      if (value instanceof Set) return { $set: [...value].map((v) => toJsonSafe(v, inner)) }
      if (Array.isArray(value)) return value.map((v) => toJsonSafe(v, inner))
      const out: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(value)) out[k] = toJsonSafe(v, inner)
      return out
    }
    default:
      return value
  }
}

/** The list view of an execution. @since 0.1.0 @category constructors */
export const summaryOf = (e: TaskExecution): ExecutionSummary => ({
  executionId: e.executionId,
  taskId: e.taskId,
  status: e.status,
  createdAt: e.createdAt,
  ...(e.startedAt !== undefined ? { startedAt: e.startedAt } : {}),
  ...(e.finishedAt !== undefined ? { finishedAt: e.finishedAt } : {}),
  ...(e.error !== undefined ? { error: e.error } : {}),
  ...(e.parentTaskExecution !== undefined ? { parentExecutionId: e.parentTaskExecution.executionId } : {}),
  ...(e.rootTaskExecution !== undefined ? { rootExecutionId: e.rootTaskExecution.executionId } : {})
})

/** The whole view of an execution. @since 0.1.0 @category constructors */
export const detailOf = (e: TaskExecution): ExecutionDetail => ({
  ...summaryOf(e),
  input: toJsonSafe(e.runInput),
  ...("runOutput" in e ? { runOutput: toJsonSafe(e.runOutput) } : {}),
  ...("output" in e ? { output: toJsonSafe(e.output) } : {}),
  startAt: e.startAt,
  updatedAt: e.updatedAt,
  ...(e.expiresAt !== undefined ? { expiresAt: e.expiresAt } : {}),
  ...(e.executorId !== undefined ? { executorId: e.executorId } : {}),
  timeoutMs: e.timeoutMs,
  retryAttempts: e.retryAttempts,
  attemptCount: e.attemptCount,
  attempts: e.attempts,
  childExecutionIds: (e.childrenTaskExecutions ?? []).map((c) => c.executionId),
  ...(e.finalizeTaskExecution !== undefined ? { finalizeExecutionId: e.finalizeTaskExecution.executionId } : {})
})

/** The tree view. @since 0.1.0 @category constructors */
export const treeOf = (node: ExecutionTreeNode<TaskExecution>): TreeJson => ({
  execution: summaryOf(node.execution),
  children: node.children.map(treeOf),
  ...(node.finalize !== undefined ? { finalize: treeOf(node.finalize) } : {})
})
