/**
 * What the dashboard reads and does, over the storage: the overview, a page of executions, one
 * execution with its children, a tree, cancel and retry (one, or every one a filter matches). Built
 * from the Effect API's client operations, so it needs only the storage services (`TaskStorage`,
 * `Signals`; a `Registry` when there is one, to decode values with the tasks' codecs).
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as DurableExecutor from "../DurableExecutor.js"
import type { ExecutionNotFound, InvalidQuery, StorageError } from "../EngineError.js"
import type { ExecutionFilter, ExecutionPage, ListExecutionsOptions, TaskExecutionTree } from "../ExecutionQueries.js"
import { ExecutorConfig } from "../ExecutorConfig.js"
import * as ExecutorConfigModule from "../ExecutorConfig.js"
import * as Ids from "../Ids.js"
import * as Registry from "../Registry.js"
import type { Signals } from "../Signals.js"
import type { TaskExecution } from "../TaskExecution.js"
import type { TaskStorage } from "../TaskStorage.js"
import { type MinuteJson, type Overview, summaryOf } from "./ApiSchema.js"

/** Statuses of an execution that finished without success (cancelled aside). @since 0.1.0 @category constants */
export const FAILED_STATUSES = ["failed", "timed_out", "children_tasks_failed", "finalize_task_failed"] as const

/** Most rows read per series for the per-minute chart. @since 0.1.0 @category constants */
export const CHART_ROWS_MAX = 2_000

/** Errors of reading. @since 0.1.0 @category errors */
export type ReadError = InvalidQuery | StorageError

/** @since 0.1.0 @category models */
export interface Data {
  readonly overview: Effect.Effect<Overview, ReadError>
  readonly list: (options: ListExecutionsOptions) => Effect.Effect<ExecutionPage, ReadError>
  /** The task ids that have executions. */
  readonly taskIds: Effect.Effect<ReadonlyArray<string>, ReadError>
  readonly execution: (id: string) => Effect.Effect<{
    readonly execution: TaskExecution
    readonly children: ReadonlyArray<TaskExecution>
  }, ExecutionNotFound | ReadError>
  /** The whole tree the execution belongs to, from its root. */
  readonly tree: (id: string) => Effect.Effect<TaskExecutionTree, ExecutionNotFound | ReadError>
  readonly cancel: (id: string) => Effect.Effect<TaskExecution, ExecutionNotFound | StorageError>
  /** Runs an execution that finished without success again (same id, fresh retry budget). */
  readonly retry: (id: string) => ReturnType<DurableExecutor.ClientService["retryExecution"]>
  /**
   * Cancels every unfinished execution matching the filter (the engine's `cancelExecutions`): how
   * many matched and how many were cancelled.
   */
  readonly cancelMatching: (options: ExecutionFilter) => Effect.Effect<SelectionResult, ReadError>
  /**
   * Retries every execution matching the filter that finished without success (the engine's
   * `retryExecutions`): how many matched and how many were retried.
   */
  readonly retryMatching: (options: ExecutionFilter) => Effect.Effect<SelectionResult, ReadError>
}

/** What an action on a selection did. @since 0.1.0 @category models */
export interface SelectionResult {
  readonly matched: number
  readonly changed: number
}

const MINUTE = 60_000

/** Executions started and finished per minute over the hour before `nowMs`, from at most a few pages. */
const perMinute = (
  client: DurableExecutor.ClientService,
  nowMs: number
): Effect.Effect<{ readonly minutes: ReadonlyArray<MinuteJson>; readonly sampled: boolean }, ReadError> =>
  Effect.gen(function*() {
    const first = Math.floor(nowMs / MINUTE) * MINUTE - 59 * MINUTE
    const seen = new Map<string, TaskExecution>()
    let sampled = false
    for (const filter of [{ finishedAfter: first - 1 }, { createdAfter: first - 1 }]) {
      let cursor: string | undefined
      let read = 0
      do {
        const page = yield* client.listExecutions({ ...filter, limit: 500, ...(cursor ? { cursor } : {}) })
        for (const e of page.executions) seen.set(e.executionId, e)
        read += page.executions.length
        cursor = page.nextCursor ?? undefined
      } while (cursor !== undefined && read < CHART_ROWS_MAX)
      if (cursor !== undefined) sampled = true
    }
    const minutes = Array.from(
      { length: 60 },
      (_, i) => ({ minute: new Date(first + i * MINUTE), started: 0, finished: 0 })
    )
    const slot = (date: Date | undefined) => {
      if (date === undefined) return undefined
      const i = Math.floor((date.getTime() - first) / MINUTE)
      return i >= 0 && i < 60 ? minutes[i] : undefined
    }
    for (const e of seen.values()) {
      const s = slot(e.startedAt)
      if (s) s.started++
      const f = slot(e.finishedAt)
      if (f) f.finished++
    }
    return { minutes, sampled }
  })

/** The dashboard's reads and actions over the storage in context. @since 0.1.0 @category constructors */
export const make: Effect.Effect<Data, never, TaskStorage | Signals> = Effect.gen(function*() {
  const registry = Option.getOrElse(yield* Effect.serviceOption(Registry.Registry), () => Registry.make())
  const client = yield* DurableExecutor.makeClient(Effect.succeed(true)).pipe(
    Effect.provideService(Registry.Registry, registry),
    Effect.provideService(ExecutorConfig, ExecutorConfigModule.defaults),
    Effect.provide(Ids.layerRandom)
  )
  const rootOf = (e: TaskExecution) => e.rootTaskExecution?.executionId ?? e.executionId
  return {
    overview: Effect.gen(function*() {
      const nowMs = yield* Clock.currentTimeMillis
      const [byStatus, byTask, chart, failures] = yield* Effect.all([
        client.countExecutions({ by: "status" }),
        client.countExecutions({ by: "taskId" }),
        perMinute(client, nowMs),
        client.listExecutions({ status: [...FAILED_STATUSES], limit: 10 })
      ])
      return {
        byStatus,
        byTask,
        perMinute: chart.minutes,
        perMinuteSampled: chart.sampled,
        latestFailures: failures.executions.map(summaryOf)
      }
    }),
    list: (options) => client.listExecutions(options),
    taskIds: Effect.map(client.countExecutions({ by: "taskId" }), (counts) => Object.keys(counts).sort()),
    execution: (id) =>
      Effect.gen(function*() {
        const execution = yield* client.get(id)
        const hasChildren = execution.childrenTaskExecutions !== undefined ||
          execution.finalizeTaskExecution !== undefined
        const children = hasChildren
          ? (yield* client.listExecutions({ parentExecutionId: id, limit: 1_000 })).executions
          : []
        return { execution, children }
      }),
    tree: (id) => Effect.flatMap(client.get(id), (e) => client.getExecutionTree(rootOf(e))),
    cancel: (id) => client.cancel(id),
    retry: (id) => client.retryExecution(id),
    cancelMatching: (options) =>
      Effect.map(client.cancelExecutions(options), (r) => ({ matched: r.cancelled + r.skipped, changed: r.cancelled })),
    retryMatching: (options) =>
      Effect.map(client.retryExecutions(options), (r) => ({ matched: r.retried + r.skipped, changed: r.retried }))
  }
})
