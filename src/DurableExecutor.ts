/**
 * The Effect API's executor service: register, enqueue, get, wait, cancel, cron schedules
 * (`Schedules.ts`) and shut down, over one running {@link Executor}. Compose {@link layer} with a
 * storage layer (which provides `TaskStorage` and `Signals`), or use {@link layerMemory}.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Tracer from "effect/Tracer"
import * as Changes from "./Changes.js"
import {
  type DuplicateExecution,
  ExecutionNotFound,
  ExecutorShutDown,
  InvalidExecutorConfig,
  type InvalidTaskDefinition,
  type InvalidTaskInput,
  type StorageError,
  type UnstorableValue
} from "./EngineError.js"
import type { EnqueueManyOptions, EnqueueOptions } from "./EnqueueOptions.js"
import * as ExecutionQueries from "./ExecutionQueries.js"
import { type ExecutionRow, makeReady } from "./ExecutionRow.js"
import { Executor } from "./Executor.js"
import * as ExecutorModule from "./Executor.js"
import { ExecutorConfig } from "./ExecutorConfig.js"
import * as ExecutorConfigModule from "./ExecutorConfig.js"
import { Ids } from "./Ids.js"
import * as IdsModule from "./Ids.js"
import * as EnqueueChecks from "./internal/EnqueueChecks.js"
import * as EnqueueSpan from "./internal/EnqueueSpan.js"
import * as ExecutionWait from "./internal/ExecutionWait.js"
import * as InputEncoding from "./internal/InputEncoding.js"
import { unknownKeyProblem } from "./internal/OptionKeys.js"
import * as StorageSpans from "./internal/StorageSpans.js"
import * as Tracing from "./internal/Tracing.js"
import * as MemoryStorage from "./MemoryStorage.js"
import { Registry } from "./Registry.js"
import * as RegistryModule from "./Registry.js"
import * as Schedules from "./Schedules.js"
import { ScheduleStorage } from "./ScheduleStorage.js"
import * as Serialization from "./Serialization.js"
import { Signals } from "./Signals.js"
import * as SignalsModule from "./Signals.js"
import * as Sleeping from "./Sleeping.js"
import type { TaskDefinition } from "./TaskDefinition.js"
import * as TaskDefinitionModule from "./TaskDefinition.js"
import * as TaskExecution from "./TaskExecution.js"
import { TaskStorage } from "./TaskStorage.js"

/**
 * Anything that carries a task definition: an Effect API `Task` or a facade `DurableTask`. @since 0.1.0 @category
 * models
 */
export interface TaskLike<in TInput = unknown, out TOutput = unknown> {
  readonly id: string
  readonly definition: TaskDefinition
  /** Phantom types. */
  readonly "~types"?: { readonly input: (i: TInput) => void; readonly output: TOutput } | undefined
}

/** Enqueue options (idempotency key, delay, start time, overrides), from `EnqueueOptions.ts`. @since 0.1.0 */
export type { EnqueueManyOptions, EnqueueOptions } from "./EnqueueOptions.js"
/** Their limits. @since 0.1.0 */
export { MAX_DELAY_MS, MAX_IDEMPOTENCY_KEY_LENGTH } from "./EnqueueOptions.js"

/** Errors an enqueue can fail with. @since 0.1.0 @category errors */
export type EnqueueError =
  | InvalidTaskDefinition
  | InvalidTaskInput
  | UnstorableValue
  | StorageError
  | DuplicateExecution
  | ExecutorShutDown

/** The service; its operations on stored executions are in {@link ExecutionQueries}. @since 0.1.0 @category models */
export interface DurableExecutorService
  extends ExecutionQueries.Operations, Schedules.ScheduleClient, Sleeping.SleepingClient
{
  readonly executorId: string
  /** Registers a task (and its finalize tasks) so this executor runs it. */
  readonly register: (task: TaskLike<any, any>) => Effect.Effect<void, InvalidTaskDefinition>
  /** Validates and stores a new execution; returns its execution id. */
  readonly enqueue: <I>(
    task: TaskLike<I, any>,
    input: I,
    options?: EnqueueOptions
  ) => Effect.Effect<string, EnqueueError>
  /**
   * Validates and stores many executions of one task in one storage transaction; returns their
   * execution ids in input order. All or nothing: when one input is invalid, none is stored. An
   * input whose idempotency key is taken is not stored: its id is the execution holding the key.
   */
  readonly enqueueMany: <I>(
    task: TaskLike<I, any>,
    inputs: Iterable<I>,
    options?: EnqueueManyOptions<I>
  ) => Effect.Effect<ReadonlyArray<string>, EnqueueError>
  /**
   * Validates and stores executions of any tasks in one storage transaction. Each item succeeds or
   * fails on its own (an invalid input fails its item only); a storage failure fails every item.
   * Returns, per item in order, its execution id or its error.
   */
  readonly enqueueBatch: (
    items: ReadonlyArray<{
      readonly task: TaskLike<any, any>
      readonly input: unknown
      readonly options?: EnqueueOptions | undefined
      /** The enqueue span's parent when tracing (the facade's caller's); by default the current span. */
      readonly parentSpan?: Tracer.AnySpan | undefined
    }>
  ) => Effect.Effect<ReadonlyArray<Either.Either<string, EnqueueError>>>
  readonly get: (executionId: string) => Effect.Effect<TaskExecution.TaskExecution, ExecutionNotFound | StorageError>
  /** Waits until the execution finishes (wake-up on finish, polling as a fallback) and returns it. */
  readonly wait: (
    executionId: string,
    options?: { readonly pollIntervalMs?: number }
  ) => Effect.Effect<TaskExecution.TaskExecution, ExecutionNotFound | StorageError>
  /** Cancels an unfinished execution and its whole subtree; a finished one is left as it is. */
  readonly cancel: (executionId: string) => Effect.Effect<TaskExecution.TaskExecution, ExecutionNotFound | StorageError>
  readonly shutdown: Effect.Effect<void>
}

/** @since 0.1.0 @category tags */
export class DurableExecutor
  extends Context.Tag("durable-tasks/DurableExecutor")<DurableExecutor, DurableExecutorService>()
{}

/** The client operations (everything but running tasks). @since 0.1.0 @category models */
export type ClientService = Omit<DurableExecutorService, "executorId" | "shutdown">

/**
 * The client operations over storage, without an executor: enqueue, get, wait, cancel.
 * `isShuttingDown` makes enqueue refuse new work.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeClient = (isShuttingDown: Effect.Effect<boolean>): Effect.Effect<
  ClientService,
  never,
  TaskStorage | Signals | Registry | ExecutorConfig | Ids
> =>
  Effect.gen(function*() {
    const signals = yield* Signals
    const published = Changes.publishing(yield* TaskStorage, signals)
    const registry = yield* Registry
    const config = yield* ExecutorConfig
    const storage = (yield* Tracing.currentTracer) === undefined
      ? published
      : StorageSpans.decorate(published, config.traceStorage)
    const ids = yield* Ids

    const register = (task: TaskLike<any, any>) => Effect.suspend(() => registry.register(task.definition))

    const get = (executionId: string) =>
      Effect.flatMap(storage.get(executionId), (row) =>
        row === undefined
          ? Effect.fail(new ExecutionNotFound({ executionId }))
          : TaskExecution.fromRow(row, registry))

    /** Registers the task and checks the enqueue's options against its spec. */
    const specFor = (task: TaskLike<any, any>, options: unknown) =>
      Effect.gen(function*() {
        if (yield* isShuttingDown) return yield* new ExecutorShutDown()
        const definition = task.definition
        yield* register(task)
        return yield* EnqueueChecks.resolve(definition.spec, options)
      })

    const rowOf = EnqueueChecks.rowOf
    const keyAt =
      (task: TaskLike<any, any>, keyOf: (input: unknown, index: number) => string) => (input: unknown, i: number) =>
        Effect.suspend(() => EnqueueChecks.keyAt(task.id, keyOf, input, i))

    const encodeInput = (definition: TaskDefinition, input: unknown) =>
      InputEncoding.encodeInput(definition, input, config.maxSerializedValueBytes)
    const encodeInputs = (definition: TaskDefinition, inputs: Iterable<unknown>) =>
      InputEncoding.encodeInputs(definition, inputs, config.maxSerializedValueBytes)

    /** Stores rows; per row, the id of the execution holding it (another's when its key was taken). */
    const insertRows = (rows: ReadonlyArray<ExecutionRow>) =>
      Effect.map(
        storage.insert(rows.map((r) => Sleeping.rootRow(registry.get(r.taskId), r))),
        (result) => result.executionIds
      )

    const enqueue = <I>(task: TaskLike<I, any>, input: I, options?: EnqueueOptions) =>
      EnqueueSpan.traced(task.id, (traceContext) =>
        Effect.gen(function*() {
          const resolved = yield* specFor(task, options)
          const encoded = yield* encodeInput(task.definition, input)
          const nowMs = yield* Clock.currentTimeMillis
          const executionId = yield* ids.next("te_")
          const stored = yield* insertRows([rowOf(resolved, executionId, encoded, nowMs, undefined, traceContext)])
          return stored[0]!
        }), (executionId) => ({ [Tracing.Attributes.executionId]: executionId }))

    const enqueueMany = <I>(task: TaskLike<I, any>, inputs: Iterable<I>, options?: EnqueueManyOptions<I>) =>
      EnqueueSpan.traced(task.id, (traceContext) =>
        Effect.gen(function*() {
          const { keyOf, rest } = yield* EnqueueChecks.batchKeys(task.id, options)
          const resolved = yield* specFor(task, rest)
          const list = keyOf === undefined ? inputs : Array.from(inputs)
          const keys = keyOf === undefined ? undefined : yield* Effect.forEach(list, keyAt(task, keyOf as never))
          const encoded = yield* encodeInputs(task.definition, list)
          if (encoded.length === 0) return []
          const nowMs = yield* Clock.currentTimeMillis
          const executionIds = yield* IdsModule.nextMany(ids, "te_", encoded.length)
          const rows = encoded.map((input, i) =>
            rowOf(resolved, executionIds[i]!, input, nowMs, keys?.[i] ?? null, traceContext)
          )
          return yield* insertRows(rows)
        }), (executionIds) => ({ [Tracing.Attributes.count]: executionIds.length }))

    const enqueueBatch: ClientService["enqueueBatch"] = (items) =>
      Effect.gen(function*() {
        const nowMs = yield* Clock.currentTimeMillis
        const shuttingDown = yield* isShuttingDown
        const executionIds = yield* IdsModule.nextMany(ids, "te_", items.length)
        const spans = yield* EnqueueSpan.makeMany(items.map((item) => ({ ...item, taskId: item.task.id })))
        const outcomes: Array<Either.Either<string, EnqueueError>> = []
        const rows: Array<ExecutionRow> = []
        const stored: Array<number> = []
        for (let i = 0; i < items.length; i++) {
          const { task, input, options } = items[i]!
          const definition = task.definition
          const traceContext = spans === undefined ? null : Tracing.traceparentOf(spans[i]!)
          // Without options and validator (the common case) an item needs no effect.
          let row: ExecutionRow
          if (
            options === undefined && TaskDefinitionModule.isIdentityCodec(definition.prepareInput) &&
            registry.get(definition.id) === definition && !shuttingDown
          ) {
            const what = `input of task '${definition.id}'`
            const encoded = Serialization.encode(input, what, config.maxSerializedValueBytes, definition.serializer)
            if (Either.isLeft(encoded)) {
              outcomes.push(Either.left(encoded.left))
              continue
            }
            const executionId = executionIds[i]!
            row = makeReady({ spec: definition.spec, executionId, input: encoded.right, nowMs, traceContext })
          } else {
            const made = yield* Effect.either(
              Effect.zipWith(
                specFor(task, options),
                encodeInput(definition, input),
                (resolved, encoded) => rowOf(resolved, executionIds[i]!, encoded, nowMs, undefined, traceContext)
              )
            )
            if (Either.isLeft(made)) {
              outcomes.push(Either.left(made.left))
              continue
            }
            row = made.right
          }
          outcomes.push(Either.right(row.executionId))
          rows.push(row)
          stored.push(i)
        }
        const inserted = rows.length === 0
          ? Either.right<ReadonlyArray<string>>([])
          : yield* Effect.either(insertRows(rows))
        if (Either.isLeft(inserted)) { for (const i of stored) outcomes[i] = Either.left(inserted.left) }
        else {
          // An item whose idempotency key was taken is the execution holding the key.
          stored.forEach((i, k) => {
            if (inserted.right[k] !== rows[k]!.executionId) outcomes[i] = Either.right(inserted.right[k]!)
          })
        }
        if (spans !== undefined) {
          yield* EnqueueSpan.endMany(
            spans,
            outcomes.map((o) => (Either.isRight(o) ? o.right : undefined)),
            (i) => Either.getLeft(outcomes[i]!).pipe(Option.getOrUndefined)
          )
        }
        return outcomes
      })

    const wait = ExecutionWait.make({ storage, signals, registry, defaultPollMs: config.pollIntervalMs })

    const cancel = (executionId: string) =>
      Effect.gen(function*() {
        const nowMs = yield* Clock.currentTimeMillis
        const result = yield* storage.apply([{
          executionId,
          event: { _tag: "Cancel", nowMs, reason: "cancelled by the user" }
        }])
        if (result.results[0]?._tag === "NotFound") return yield* new ExecutionNotFound({ executionId })
        yield* Effect.logDebug("durable-tasks: cancel requested").pipe(Effect.annotateLogs("executionId", executionId))
        return yield* get(executionId)
      })

    const schedules = Schedules.makeClient({
      storage: yield* Effect.serviceOption(ScheduleStorage),
      isShuttingDown,
      register,
      encodeInput
    })
    return {
      ...schedules,
      register,
      enqueue,
      enqueueMany,
      enqueueBatch,
      get,
      wait,
      cancel,
      ...ExecutionQueries.make(storage, registry),
      ...Sleeping.makeClient({ storage, registry, register, maxSerializedValueBytes: config.maxSerializedValueBytes })
    }
  })

/** Builds the service over a running executor. @since 0.1.0 @category constructors */
export const make: Effect.Effect<
  DurableExecutorService,
  never,
  TaskStorage | Signals | Registry | ExecutorConfig | Ids | Executor
> = Effect.gen(function*() {
  const executor = yield* Executor
  const client = yield* makeClient(executor.isShuttingDown)
  return DurableExecutor.of({ ...client, executorId: executor.executorId, shutdown: executor.shutdown })
})

/** Options of {@link layer}: executor settings and the tasks to register up front. @since 0.1.0 @category models */
export interface LayerOptions extends ExecutorConfigModule.ExecutorOptions {
  readonly tasks?: ReadonlyArray<TaskLike<any, any>>
}

/** Errors building the executor layers can fail with. @since 0.1.0 @category errors */
export type LayerError = InvalidTaskDefinition | InvalidExecutorConfig

const layerWith = (
  options: LayerOptions,
  configLayer: (settings: ExecutorConfigModule.ExecutorOptions) => Layer.Layer<ExecutorConfig, InvalidExecutorConfig>
): Layer.Layer<DurableExecutor | Executor, LayerError, TaskStorage | Signals> => {
  const problem = unknownKeyProblem(
    options,
    [...ExecutorConfigModule.settingNames, ...Object.keys(ExecutorConfigModule.durationSettings), "tasks"],
    "DurableExecutor.layer options"
  )
  if (problem !== undefined) return Layer.fail(new InvalidExecutorConfig({ message: problem }))
  const { tasks, ...settings } = options
  const base = Layer.mergeAll(
    RegistryModule.layer((tasks ?? []).map((t) => t.definition)),
    configLayer(settings),
    IdsModule.layerRandom
  )
  return Layer.effect(DurableExecutor, make).pipe(
    Layer.provideMerge(ExecutorModule.layer),
    Layer.provide(base)
  )
}

/**
 * The executor and its service, over the `TaskStorage` and `Signals` that a storage layer provides.
 * Fails with `InvalidExecutorConfig` on an unknown key or an invalid setting.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: LayerOptions = {}
): Layer.Layer<DurableExecutor | Executor, LayerError, TaskStorage | Signals> =>
  layerWith(options, ExecutorConfigModule.layer)

/**
 * {@link layer} with its settings read from Effect `Config` (by default the environment:
 * `DURABLE_TASKS_MAX_CONCURRENT_TASK_EXECUTIONS`, `DURABLE_TASKS_POLL_INTERVAL_MS`, …; see
 * `ExecutorConfig.config`). A setting the config does not set keeps its value from `options`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: LayerOptions = {}
): Layer.Layer<DurableExecutor | Executor, LayerError, TaskStorage | Signals> =>
  layerWith(options, ExecutorConfigModule.layerConfig)

/** {@link layer} over a fresh in-memory storage. @since 0.1.0 @category layers */
export const layerMemory = (options: LayerOptions = {}): Layer.Layer<DurableExecutor | Executor, LayerError> =>
  layer(options).pipe(Layer.provide(Layer.merge(MemoryStorage.layer, SignalsModule.layerMemory)))
