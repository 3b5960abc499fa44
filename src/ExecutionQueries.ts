/**
 * Operating on stored executions: list them (filters, newest first, keyset pages with an opaque
 * cursor), count them, read a whole tree, and purge finished trees. Arguments are checked here and
 * refused with {@link InvalidQuery} naming the field; the storage port runs the queries.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { ExecutionNotFound, type ExecutionNotRetryable, InvalidQuery, type StorageError } from "./EngineError.js"
import * as ExecutionRedrive from "./ExecutionRedrive.js"
import type { ExecutionRow } from "./ExecutionRow.js"
import * as ExecutionTree from "./ExecutionTree.js"
import { describeValue } from "./internal/OptionKeys.js"
import type { RegistryService } from "./Registry.js"
import * as TaskExecution from "./TaskExecution.js"
import { FINISHED_STATUSES, TASK_STATUSES, type TaskStatus } from "./TaskStatus.js"
import type { ExecutionQuery, ListPosition, TaskStorage } from "./TaskStorage.js"

/** A time bound: a `Date` or epoch milliseconds. @since 0.1.0 @category models */
export type TimeBound = Date | number

/**
 * Filter and page of {@link Operations.listExecutions}. Bounds are exclusive; `rootExecutionId`
 * lists a root's descendants, `parentExecutionId` a parent's children and finalize task.
 *
 * @since 0.1.0
 * @category models
 */
export interface ListExecutionsOptions {
  readonly status?: TaskStatus | ReadonlyArray<TaskStatus> | undefined
  readonly taskId?: string | undefined
  readonly rootExecutionId?: string | undefined
  readonly parentExecutionId?: string | undefined
  readonly createdAfter?: TimeBound | undefined
  readonly createdBefore?: TimeBound | undefined
  readonly finishedAfter?: TimeBound | undefined
  readonly finishedBefore?: TimeBound | undefined
  /** 1 to 1,000; default 100. */
  readonly limit?: number | undefined
  /** The previous page's `nextCursor`. */
  readonly cursor?: string | undefined
}

/** One page, newest first; `nextCursor` is null on the last page. @since 0.1.0 @category models */
export interface ExecutionPage {
  readonly executions: ReadonlyArray<TaskExecution.TaskExecution>
  readonly nextCursor: string | null
}

/** @since 0.1.0 @category models */
export interface PurgeExecutionsOptions {
  /** Trees whose root finished before this are deleted. */
  readonly finishedBefore: TimeBound
  /** Only trees whose root has this finished status (or one of these); default: any finished status. */
  readonly status?: TaskStatus | ReadonlyArray<TaskStatus> | undefined
}

/** A tree of executions with their statuses. @since 0.1.0 @category models */
export type TaskExecutionTree = ExecutionTree.ExecutionTreeNode<TaskExecution.TaskExecution>

/**
 * The filter of {@link Operations.retryExecutions} and {@link Operations.cancelExecutions}: the
 * listing's filter, without its page (`limit`, `cursor`).
 *
 * @since 0.1.0
 * @category models
 */
export type ExecutionFilter = Omit<ListExecutionsOptions, "limit" | "cursor">

/** Errors of the operations. @since 0.1.0 @category errors */
export type OperationError = InvalidQuery | StorageError

/** The operations, on the Effect API's executor service. @since 0.1.0 @category models */
export interface Operations {
  /** Executions matching the filter, newest first, one page at a time. */
  readonly listExecutions: (options?: ListExecutionsOptions) => Effect.Effect<ExecutionPage, OperationError>
  /** How many executions there are per status or per task id. */
  readonly countExecutions: (
    options: { readonly by: "status" | "taskId" }
  ) => Effect.Effect<Readonly<Record<string, number>>, OperationError>
  /** The execution's tree: from the root it is given (or the subtree of a non-root), every descendant. */
  readonly getExecutionTree: (
    executionId: string
  ) => Effect.Effect<TaskExecutionTree, ExecutionNotFound | OperationError>
  /** Deletes whole finished trees (in batches); returns how many executions were deleted. */
  readonly purgeExecutions: (options: PurgeExecutionsOptions) => Effect.Effect<number, OperationError>
  /**
   * Runs an execution that finished without success again, under the same id, with a fresh retry
   * budget: only its unsuccessful descendants run again, and its ancestors re-open. Returns it re-opened.
   */
  readonly retryExecution: (
    executionId: string
  ) => Effect.Effect<TaskExecution.TaskExecution, ExecutionNotFound | ExecutionNotRetryable | OperationError>
  /** Retries every execution the filter matches (default: every one finished without success), in batches. */
  readonly retryExecutions: (filter?: ExecutionFilter) => Effect.Effect<ExecutionRedrive.RetryCounts, OperationError>
  /** Cancels every execution the filter matches (default: every unfinished one), with its subtree, in batches. */
  readonly cancelExecutions: (filter?: ExecutionFilter) => Effect.Effect<ExecutionRedrive.CancelCounts, OperationError>
}

/** Default and largest page size. @since 0.1.0 @category constants */
export const LIMIT_DEFAULT = 100
/** @since 0.1.0 @category constants */
export const LIMIT_MAX = 1_000
/** Trees deleted per purge transaction. @since 0.1.0 @category constants */
export const PURGE_BATCH = 100

const refuse = (field: string, message: string) =>
  Effect.fail(new InvalidQuery({ field, message: `${field} ${message}` }))

const timeOf = (field: string, value: unknown): Effect.Effect<number | undefined, InvalidQuery> => {
  if (value === undefined) return Effect.succeed(undefined)
  const ms = value instanceof Date ? value.getTime() : value
  return typeof ms === "number" && Number.isSafeInteger(ms)
    ? Effect.succeed(ms)
    : refuse(field, `must be a valid Date or integer epoch milliseconds, got ${describeValue(value)}`)
}

const statusesOf = (
  value: unknown,
  allowed: ReadonlyArray<TaskStatus>
): Effect.Effect<ReadonlyArray<TaskStatus> | undefined, InvalidQuery> => {
  if (value === undefined) return Effect.succeed(undefined)
  const list: ReadonlyArray<unknown> = Array.isArray(value) ? value : [value]
  const bad = list.find((s) => !allowed.includes(s as TaskStatus))
  if (list.length === 0 || bad !== undefined) {
    return refuse("status", `must be one of ${allowed.join(", ")} (or an array of them), got ${describeValue(bad)}`)
  }
  return Effect.succeed(list as ReadonlyArray<TaskStatus>)
}

const idOf = (field: string, value: unknown): Effect.Effect<string | undefined, InvalidQuery> =>
  value === undefined || (typeof value === "string" && value !== "")
    ? Effect.succeed(value as string | undefined)
    : refuse(field, `must be a non-empty string, got ${describeValue(value)}`)

/** The cursor after `row`: opaque text (base64url of its position). @since 0.1.0 @category utils */
export const cursorOf = (row: ExecutionRow): string =>
  Buffer.from(JSON.stringify([row.createdAt, row.executionId])).toString("base64url")

const positionOf = (cursor: unknown): Effect.Effect<ListPosition | undefined, InvalidQuery> => {
  if (cursor === undefined) return Effect.succeed(undefined)
  const bad = refuse("cursor", `is not a cursor this storage returned: ${describeValue(cursor)}`)
  if (typeof cursor !== "string") return bad
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString())
    if (
      Array.isArray(parsed) && parsed.length === 2 && Number.isSafeInteger(parsed[0]) && typeof parsed[1] === "string"
    ) return Effect.succeed({ createdAt: parsed[0] as number, executionId: parsed[1] })
  } catch {
    // falls through to the refusal
  }
  return bad
}

const LIST_KEYS = new Set([
  "status",
  "taskId",
  "rootExecutionId",
  "parentExecutionId",
  "createdAfter",
  "createdBefore",
  "finishedAfter",
  "finishedBefore",
  "limit",
  "cursor"
])

/** The storage query of listing options, checked. @since 0.1.0 @category validation */
export const toQuery = (options: ListExecutionsOptions | undefined): Effect.Effect<ExecutionQuery, InvalidQuery> =>
  Effect.gen(function*() {
    if (options === undefined) return { limit: LIMIT_DEFAULT }
    if (options === null || typeof options !== "object") {
      return yield* refuse("options", `must be an object, got ${describeValue(options)}`)
    }
    const unknown = Object.keys(options).find((k) => !LIST_KEYS.has(k))
    if (unknown !== undefined) return yield* refuse(unknown, `is not a filter (${[...LIST_KEYS].join(", ")})`)
    const limit = options.limit ?? LIMIT_DEFAULT
    if (!Number.isInteger(limit) || limit < 1 || limit > LIMIT_MAX) {
      return yield* refuse("limit", `must be an integer from 1 to ${LIMIT_MAX}, got ${describeValue(limit)}`)
    }
    return {
      statuses: yield* statusesOf(options.status, TASK_STATUSES),
      taskId: yield* idOf("taskId", options.taskId),
      rootExecutionId: yield* idOf("rootExecutionId", options.rootExecutionId),
      parentExecutionId: yield* idOf("parentExecutionId", options.parentExecutionId),
      createdAfter: yield* timeOf("createdAfter", options.createdAfter),
      createdBefore: yield* timeOf("createdBefore", options.createdBefore),
      finishedAfter: yield* timeOf("finishedAfter", options.finishedAfter),
      finishedBefore: yield* timeOf("finishedBefore", options.finishedBefore),
      after: yield* positionOf(options.cursor),
      limit
    }
  })

/**
 * Purges, batch after batch, the trees finished before `finishedBefore` whose root has one of
 * `statuses`; returns how many executions were deleted.
 *
 * @since 0.1.0
 * @category utils
 */
export const purgeAll = (
  storage: TaskStorage["Type"],
  finishedBefore: number,
  statuses: ReadonlyArray<TaskStatus>
): Effect.Effect<number, StorageError> =>
  Effect.gen(function*() {
    let deleted = 0
    for (;;) {
      const batch = yield* storage.purge({ finishedBefore, statuses, limit: PURGE_BATCH })
      deleted += batch.executions
      if (batch.trees < PURGE_BATCH) return deleted
    }
  })

/** The storage query of a bulk filter, checked (no page: `limit` and `cursor` are refused). */
const filterQuery = (filter: ExecutionFilter | undefined): Effect.Effect<ExecutionQuery, InvalidQuery> => {
  if (filter !== undefined && filter !== null && typeof filter === "object") {
    const paged = ["limit", "cursor"].find((k) => k in filter)
    if (paged !== undefined) return refuse(paged, "is not a filter of a bulk operation (it takes every match)")
  }
  return toQuery(filter)
}

/** The operations over a storage; executions shown with the registry's codecs. @since 0.1.0 @category constructors */
export const make = (storage: TaskStorage["Type"], registry: RegistryService): Operations => {
  const view = (row: ExecutionRow) => TaskExecution.fromRow(row, registry)
  return {
    listExecutions: (options) =>
      Effect.gen(function*() {
        const query = yield* toQuery(options)
        const rows = yield* storage.listPage({ ...query, limit: query.limit + 1 })
        const page = rows.length > query.limit ? rows.slice(0, query.limit) : rows
        return {
          executions: yield* Effect.forEach(page, view),
          nextCursor: rows.length > query.limit ? cursorOf(page[page.length - 1]!) : null
        }
      }),
    countExecutions: (options) =>
      options?.by === "status" || options?.by === "taskId"
        ? storage.countBy(options.by)
        : refuse("by", `must be "status" or "taskId", got ${describeValue(options?.by)}`),
    getExecutionTree: (executionId) =>
      Effect.gen(function*() {
        yield* idOf("executionId", executionId)
        const row = yield* storage.get(executionId)
        if (row === undefined) return yield* new ExecutionNotFound({ executionId })
        const rows = yield* storage.tree(row.rootExecutionId ?? row.executionId)
        const views = new Map<string, TaskExecution.TaskExecution>()
        for (const r of rows) views.set(r.executionId, yield* view(r))
        const tree = ExecutionTree.build(rows, executionId, (r) => views.get(r.executionId)!)
        return tree ?? (yield* new ExecutionNotFound({ executionId }))
      }),
    purgeExecutions: (options) =>
      Effect.gen(function*() {
        if (options === null || typeof options !== "object") {
          return yield* refuse("options", `must be an object, got ${describeValue(options)}`)
        }
        const finishedBefore = yield* timeOf("finishedBefore", options.finishedBefore)
        if (finishedBefore === undefined) return yield* refuse("finishedBefore", "is required")
        const statuses = yield* statusesOf(options.status, [...FINISHED_STATUSES])
        return yield* purgeAll(storage, finishedBefore, statuses ?? [...FINISHED_STATUSES])
      }),
    retryExecution: (executionId) =>
      Effect.gen(function*() {
        yield* idOf("executionId", executionId)
        yield* ExecutionRedrive.retryOne(storage, executionId)
        const row = yield* storage.get(executionId)
        return yield* row === undefined ? new ExecutionNotFound({ executionId }) : view(row)
      }),
    retryExecutions: (filter) => Effect.flatMap(filterQuery(filter), (q) => ExecutionRedrive.retryAll(storage, q)),
    cancelExecutions: (filter) => Effect.flatMap(filterQuery(filter), (q) => ExecutionRedrive.cancelAll(storage, q))
  }
}
