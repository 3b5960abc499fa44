/**
 * The Promise facade: exactly the seed README's API over the Effect engine, through one
 * `ManagedRuntime`. Errors are the facade's own `Error` subclasses.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as DurableExecutorModule from "../DurableExecutor.js"
import { InvalidTaskInput } from "../EngineError.js"
import * as Executor from "../Executor.js"
import { ExecutorConfig, type ExecutorSettings } from "../ExecutorConfig.js"
import * as ExecutorConfigModule from "../ExecutorConfig.js"
import * as Ids from "../Ids.js"
import { Registry } from "../Registry.js"
import * as RegistryModule from "../Registry.js"
import { Signals } from "../Signals.js"
import type { RunResult, TaskDefinition } from "../TaskDefinition.js"
import * as TaskDefinitionModule from "../TaskDefinition.js"
import { TaskStorage } from "../TaskStorage.js"
import {
  DurableExecutionNotFoundError,
  DurableExecutorOptionsError,
  DurableExecutorShutdownError,
  DurableTaskDefinitionError,
  DurableWaitAbortedError,
  fromEngineError
} from "./errors.js"
import * as SchemaInput from "./SchemaInput.js"
import * as Serializer from "./Serializer.js"
import type { InferInput, InferOutput, StandardSchemaV1 } from "./StandardSchema.js"
import type { DurableStorage } from "./storage.js"
import { callUser, contextOf, isPromiseLike } from "./UserRun.js"
import * as WaitQueue from "./WaitQueue.js"
import type {
  DurableFinalizeTaskOptions,
  DurableParentTaskOptions,
  DurableParentTaskOutput,
  DurableParentTaskRunResult,
  DurableTask,
  DurableTaskEnqueueOptions,
  DurableTaskExecution,
  DurableTaskHandle,
  DurableTaskOptions,
  DurableTaskRunContext
} from "./types.js"

/** Options of `new DurableExecutor(storage, options)`; every field has a documented default. @since 0.1.0 @category models */
export interface DurableExecutorOptions extends Partial<ExecutorSettings> {
  /** Engine log level. Default "warning". */
  readonly logLevel?: "none" | "error" | "warning" | "info" | "debug" | undefined
  /** How task inputs and outputs are stored. Default: lossless (Date, Map, Set, BigInt, …: README "Values"). */
  readonly serializer?: Serializer.DurableSerializer | undefined
}

type Validator = SchemaInput.InputCodecs

/** A builder with input validation fixed: `.task(...)` or `.parentTask(...)`. @since 0.1.0 @category models */
export interface DurableTaskBuilder<TRawInput, TInput> {
  task<TOutput>(options: DurableTaskOptions<TInput, TOutput>): DurableTask<TRawInput, TOutput>
  parentTask<TRunOutput, TOutput = DurableParentTaskOutput<TRunOutput>>(
    options: DurableParentTaskOptions<TInput, TRunOutput, TOutput>
  ): DurableTask<TRawInput, TOutput>
}

type Services = Registry | ExecutorConfig | Ids.Ids | TaskStorage | Signals

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e))

const functionValidator = (fn: (input: any) => unknown): Validator => (taskId) => ({
  prepareInput: (input) =>
    Effect.tryPromise({
      try: async () => await fn(input),
      catch: (e) => new InvalidTaskInput({ taskId, message: `invalid input for task '${taskId}': ${messageOf(e)}`, cause: e })
    })
})

const schemaValidator = SchemaInput.fromStandardSchema

const noChildren: ReadonlyArray<never> = []
const toTaskResult = (output: unknown): RunResult => ({ output, children: noChildren })
const toParentResult = (result: DurableParentTaskRunResult<unknown> | undefined): RunResult => ({
  output: result?.output,
  children: (result?.childrenTasks ?? []).map((c) => ({ task: c?.task?.definition, input: c?.input }))
})

const seqIdFor = (ids: ReadonlyArray<string>): string => {
  const id = `sequential(${ids.join(",")})`
  if (id.length <= TaskDefinitionModule.MAX_TASK_ID_LENGTH - 4) return id
  let h = 0x811c9dc5
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193) >>> 0
  return `sequential_${h.toString(16).padStart(8, "0")}_${ids.length}`
}

/**
 * The durable executor, as in the seed README.
 *
 * @since 0.1.0
 * @category models
 */
export class DurableExecutor {
  private readonly registry = RegistryModule.make()
  private readonly runtime: ManagedRuntime.ManagedRuntime<Services, unknown>
  private readonly sequences = new Map<string, { readonly members: ReadonlyArray<DurableTask<any, any>>; readonly task: DurableTask<any, any> }>()
  private clientPromise: Promise<DurableExecutorModule.ClientService> | undefined
  private waitQueuePromise: Promise<WaitQueue.WaitQueue> | undefined
  private waitQueue: WaitQueue.WaitQueue | undefined
  private pendingEnqueues: Array<{
    readonly task: DurableTask<any, any>
    readonly input: unknown
    readonly options: DurableTaskEnqueueOptions | undefined
    readonly resolve: (executionId: string) => void
    readonly reject: (error: unknown) => void
  }> = []
  private startPromise: Promise<{ readonly executor: Executor.ExecutorService; readonly scope: Scope.CloseableScope }> | undefined
  private shutdownPromise: Promise<void> | undefined
  private shuttingDown = false
  private readonly values: ReturnType<typeof Serializer.fromOption>

  constructor(storage: DurableStorage, options: DurableExecutorOptions = {}) {
    if (storage === null || typeof storage !== "object" || !Layer.isLayer((storage as DurableStorage).layer)) {
      throw new DurableExecutorOptionsError(
        "DurableExecutor needs a storage: createInMemoryStorage(), createSqliteStorage(...) or createPostgresStorage(...)"
      )
    }
    const { logLevel, serializer, ...partial } = options
    this.values = Serializer.fromOption(serializer)
    const settings: ExecutorSettings = { ...ExecutorConfigModule.defaults }
    for (const [key, value] of Object.entries(partial)) {
      if (value !== undefined) (settings as unknown as Record<string, unknown>)[key] = value
    }
    const unknownKeys = Object.keys(partial).filter((k) => !(k in ExecutorConfigModule.defaults))
    if (unknownKeys.length > 0) throw new DurableExecutorOptionsError(`unknown executor option(s): ${unknownKeys.join(", ")}`)
    const problem = ExecutorConfigModule.validate(settings)
    if (problem !== undefined) throw new DurableExecutorOptionsError(`invalid executor options: ${problem}`)
    const level = {
      none: LogLevel.None,
      error: LogLevel.Error,
      warning: LogLevel.Warning,
      info: LogLevel.Info,
      debug: LogLevel.Debug
    }[logLevel ?? "warning"]
    this.runtime = ManagedRuntime.make(
      Layer.mergeAll(
        storage.layer,
        Layer.succeed(Registry, this.registry),
        Layer.succeed(ExecutorConfig, settings),
        Ids.layerRandom,
        Logger.minimumLogLevel(level)
      )
    )
  }

  private async run<A, E>(effect: Effect.Effect<A, E, Services>, signal?: AbortSignal): Promise<A> {
    const exit = await this.runtime.runPromiseExit(effect, signal === undefined ? undefined : { signal })
    if (Exit.isSuccess(exit)) return exit.value
    if (Cause.isInterruptedOnly(exit.cause)) throw new DurableWaitAbortedError()
    throw fromEngineError(Cause.squash(exit.cause))
  }

  private client(): Promise<DurableExecutorModule.ClientService> {
    if (this.clientPromise === undefined) {
      this.clientPromise = this.run(DurableExecutorModule.makeClient(Effect.sync(() => this.shuttingDown)))
    }
    return this.clientPromise
  }

  private waits(): Promise<WaitQueue.WaitQueue> {
    if (this.waitQueuePromise === undefined) {
      const registry = this.registry
      const runFork = (effect: Effect.Effect<void>) => void this.runtime.runFork(effect)
      const toError = (e: unknown) => (e instanceof WaitQueue.WaitAborted ? new DurableWaitAbortedError() : fromEngineError(e))
      this.waitQueuePromise = this.run(Effect.gen(function*() {
        const storage = yield* TaskStorage
        const signals = yield* Signals
        const config = yield* ExecutorConfig
        return WaitQueue.make({ storage, signals, registry, defaultPollMs: config.pollIntervalMs, runFork, toError })
      })).then((queue) => (this.waitQueue = queue))
    }
    return this.waitQueuePromise
  }

  private register(definition: TaskDefinition): void {
    const result = this.registry.register(definition)
    if (Either.isLeft(result)) throw new DurableTaskDefinitionError(result.left.message)
  }

  private specOf(options: { readonly id: string; readonly timeoutMs: number; readonly retryOptions?: unknown; readonly sleepMsBeforeRun?: unknown }) {
    if (options === null || typeof options !== "object") throw new DurableTaskDefinitionError("task options must be an object")
    const spec = TaskDefinitionModule.makeSpec(options as TaskDefinitionModule.SpecOptions)
    if (Either.isLeft(spec)) throw new DurableTaskDefinitionError(spec.left.message)
    return spec.right
  }

  private buildDefinition(
    options: DurableTaskOptions<any, any> | DurableParentTaskOptions<any, any, any>,
    validator: Validator | undefined
  ): TaskDefinition {
    const spec = this.specOf(options)
    const input = validator?.(spec.taskId)
    const common = {
      id: spec.taskId,
      spec,
      prepareInput: input?.prepareInput ?? Effect.succeed,
      decodeInput: input?.decodeInput ?? Effect.succeed,
      encodeOutput: Effect.succeed,
      decodeOutput: Effect.succeed,
      serializer: this.values
    }
    if ("runParent" in options && typeof options.runParent === "function") {
      const runParent = options.runParent
      return {
        ...common,
        kind: "parentTask",
        run: (info, input) => Effect.map(callUser(info, (ctx) => runParent(ctx, input)), toParentResult),
        runPlain: (info, input, cancelSignal) => {
          const result = runParent(contextOf(info, cancelSignal), input)
          return isPromiseLike(result) ? Promise.resolve(result).then(toParentResult) : toParentResult(result)
        },
        finalize: options.finalizeTask === undefined ? undefined : this.buildDefinition(options.finalizeTask, undefined)
      }
    }
    if (!("run" in options) || typeof options.run !== "function") {
      throw new DurableTaskDefinitionError(`task '${spec.taskId}': options need a run function (or runParent for a parent task)`)
    }
    const run = options.run
    return {
      ...common,
      kind: "task",
      run: (info, input) =>
        Effect.map(callUser(info, (ctx) => run(ctx, input)), toTaskResult),
      runPlain: (info, input, cancelSignal) => {
        const output = run(contextOf(info, cancelSignal), input)
        return isPromiseLike(output) ? Promise.resolve(output).then(toTaskResult) : toTaskResult(output)
      },
      finalize: undefined
    }
  }

  private define<I, O>(
    options: DurableTaskOptions<any, any> | DurableParentTaskOptions<any, any, any>,
    validator: Validator | undefined
  ): DurableTask<I, O> {
    const definition = this.buildDefinition(options, validator)
    this.register(definition)
    return { id: definition.id, definition }
  }

  /** Defines a task whose `run` returns its output. */
  task<TInput = undefined, TOutput = unknown>(options: DurableTaskOptions<TInput, TOutput>): DurableTask<TInput, TOutput> {
    return this.define(options, undefined)
  }

  /** Defines a parent task: `runParent` returns an output and children; an optional finalize task runs last. */
  parentTask<TInput = undefined, TRunOutput = unknown, TOutput = DurableParentTaskOutput<TRunOutput>>(
    options: DurableParentTaskOptions<TInput, TRunOutput, TOutput>
  ): DurableTask<TInput, TOutput> {
    return this.define(options, undefined)
  }

  private builder<TRawInput, TInput>(validator: Validator): DurableTaskBuilder<TRawInput, TInput> {
    return {
      task: (options) => this.define(options, validator),
      parentTask: (options) => this.define(options, validator)
    }
  }

  /** Validates input with a function (sync or async) at enqueue; what it returns is the stored input. */
  validateInput<TRawInput, TInput>(
    validate: (input: TRawInput) => TInput | Promise<TInput>
  ): DurableTaskBuilder<TRawInput, TInput> {
    if (typeof validate !== "function") throw new DurableTaskDefinitionError("validateInput needs a function")
    return this.builder(functionValidator(validate))
  }

  /** Validates input with any Standard Schema (zod, valibot, arktype) or an effect `Schema`. */
  inputSchema<S extends StandardSchemaV1<any, any>>(schema: S): DurableTaskBuilder<InferInput<S>, InferOutput<S>>
  inputSchema<A, I>(schema: Schema.Schema<A, I, never>): DurableTaskBuilder<I, A>
  inputSchema(schema: StandardSchemaV1<any, any> | Schema.Schema<any, any, never>): DurableTaskBuilder<any, any> {
    if (Schema.isSchema(schema)) return this.builder(schemaValidator(Schema.standardSchemaV1(schema)))
    if (schema === null || typeof schema !== "object" || typeof (schema as StandardSchemaV1)["~standard"]?.validate !== "function") {
      throw new DurableTaskDefinitionError("inputSchema needs a Standard Schema (zod, valibot, …) or an effect Schema")
    }
    return this.builder(schemaValidator(schema as StandardSchemaV1<any, any>))
  }

  /**
   * Runs tasks one after another: each task's input is the previous task's output. Its id derives
   * from the members' ids, so it is the same in every process.
   */
  sequentialTasks<const T extends readonly [DurableTask<any, any>, ...Array<DurableTask<any, any>>]>(
    ...tasks: T
  ): DurableTask<T[0] extends DurableTask<infer I, any> ? I : never, T extends readonly [...Array<any>, DurableTask<any, infer O>] ? O : never> {
    if (tasks.length === 0) throw new DurableTaskDefinitionError("sequentialTasks needs at least one task")
    tasks.forEach((t, i) => {
      if (t === null || typeof t !== "object" || t.definition === undefined) {
        throw new DurableTaskDefinitionError(`sequentialTasks: argument ${i} is not a task`)
      }
    })
    const id = seqIdFor(tasks.map((t) => t.id))
    const existing = this.sequences.get(id)
    if (existing !== undefined) {
      if (existing.members.length === tasks.length && existing.members.every((m, i) => m === tasks[i])) return existing.task as never
      throw new DurableTaskDefinitionError(`sequentialTasks: task id '${id}' is already used by another sequence`)
    }
    const glue = { timeoutMs: 60_000, retryOptions: { maxAttempts: 5, baseDelayMs: 100, delayMultiplier: 2, maxDelayMs: 5_000 } }
    const level = (k: number): DurableFinalizeTaskOptions<any, any> => {
      if (k === tasks.length) {
        return { ...glue, id: `${id}#${k}`, run: (_ctx, input: { childrenTasksOutputs: Array<{ output: unknown }> }) => input.childrenTasksOutputs[0]?.output }
      }
      return {
        ...glue,
        id: k === 0 ? id : `${id}#${k}`,
        runParent: (_ctx: DurableTaskRunContext, input: any) => ({
          output: undefined,
          childrenTasks: [{ task: tasks[k]!, input: k === 0 ? input : input.childrenTasksOutputs[0]?.output }]
        }),
        finalizeTask: level(k + 1)
      }
    }
    const root = level(0) as DurableParentTaskOptions<any, any, any>
    const definition = { ...this.buildDefinition(root, undefined), prepareInput: tasks[0].definition.prepareInput }
    this.register(definition)
    const task = { id, definition }
    this.sequences.set(id, { members: tasks, task })
    return task as never
  }

  private handle<TOutput>(taskId: string, executionId: string): DurableTaskHandle<TOutput> {
    return {
      getTaskId: () => taskId,
      getExecutionId: () => executionId,
      getExecution: async () => (await this.run(Effect.promise(() => this.client()).pipe(Effect.flatMap((c) => c.get(executionId))))) as DurableTaskExecution<TOutput>,
      waitAndGetExecution: (options) => {
        const pollMs = options?.pollingIntervalMs
        if (pollMs !== undefined && (!Number.isInteger(pollMs) || pollMs < 1 || pollMs > 3_600_000)) {
          return Promise.reject(
            new DurableExecutorOptionsError(
              `waitAndGetExecution: pollingIntervalMs must be an integer from 1 to 3600000, got ${String(pollMs)}`
            )
          )
        }
        const wait = (waits: WaitQueue.WaitQueue) =>
          waits.wait(executionId, options?.pollingIntervalMs, options?.signal) as Promise<DurableTaskExecution<TOutput>>
        // The common case holds no extra promise: the queue is there, and rejects with the facade's errors.
        return this.waitQueue !== undefined ? wait(this.waitQueue) : this.waits().then(wait)
      },
      cancel: async () => {
        const client = await this.client()
        await this.run(client.cancel(executionId))
      }
    }
  }

  /** Validates the input and stores a new execution; returns its handle. */
  async enqueueTask<TInput, TOutput>(
    task: DurableTask<TInput, TOutput>,
    input: TInput,
    options?: DurableTaskEnqueueOptions
  ): Promise<DurableTaskHandle<TOutput>> {
    if (this.shuttingDown) throw new DurableExecutorShutdownError()
    if (task === null || typeof task !== "object" || task.definition === undefined) {
      throw new DurableTaskDefinitionError("enqueueTask needs a task defined with this executor")
    }
    // Calls made together (e.g. Promise.all over many enqueueTask) are stored in one transaction.
    return new Promise<string>((resolve, reject) => {
      this.pendingEnqueues.push({ task, input, options, resolve, reject })
      if (this.pendingEnqueues.length === 1) queueMicrotask(() => this.flushEnqueues())
    }).then((executionId) => this.handle<TOutput>(task.id, executionId))
  }

  private flushEnqueues(): void {
    const batch = this.pendingEnqueues
    this.pendingEnqueues = []
    this.client()
      .then((client) => this.runtime.runPromiseExit(client.enqueueBatch(batch)))
      .then((exit) => {
        if (Exit.isFailure(exit)) throw Cause.squash(exit.cause)
        exit.value.forEach((outcome, i) => {
          if (Either.isRight(outcome)) batch[i]!.resolve(outcome.right)
          else batch[i]!.reject(fromEngineError(outcome.left))
        })
      })
      .catch((e: unknown) => {
        for (const item of batch) item.reject(fromEngineError(e))
      })
  }

  /**
   * Validates many inputs of one task and stores their executions in one storage transaction (much
   * faster than one `enqueueTask` each); returns their handles in input order. All or nothing: when
   * one input is invalid, none is stored.
   */
  async enqueueTasks<TInput, TOutput>(
    task: DurableTask<TInput, TOutput>,
    inputs: Iterable<TInput>,
    options?: DurableTaskEnqueueOptions
  ): Promise<Array<DurableTaskHandle<TOutput>>> {
    if (this.shuttingDown) throw new DurableExecutorShutdownError()
    if (task === null || typeof task !== "object" || task.definition === undefined) {
      throw new DurableTaskDefinitionError("enqueueTasks needs a task defined with this executor")
    }
    const client = await this.client()
    const executionIds = await this.run(client.enqueueMany(task, inputs, options))
    return executionIds.map((executionId) => this.handle<TOutput>(task.id, executionId))
  }

  /** A handle on an existing execution of `task`; rejects with DurableExecutionNotFoundError if there is none. */
  async getTaskHandle<TInput, TOutput>(task: DurableTask<TInput, TOutput>, executionId: string): Promise<DurableTaskHandle<TOutput>> {
    const client = await this.client()
    const execution = await this.run(client.get(executionId))
    if (execution.taskId !== task.id) {
      throw new DurableExecutionNotFoundError(`task execution ${executionId} is not an execution of task '${task.id}'`)
    }
    return this.handle(task.id, executionId)
  }

  /** Starts the executor's loops; resolves once it is running. */
  async start(): Promise<void> {
    if (this.shuttingDown) throw new DurableExecutorShutdownError()
    if (this.startPromise === undefined) {
      this.startPromise = this.run(Effect.gen(function*() {
        const scope = yield* Scope.make()
        const executor = yield* Scope.extend(Executor.make, scope)
        return { executor, scope }
      }))
    }
    await this.startPromise
  }

  /** Stops claiming, fires running tasks' shutdown signal, waits for them (up to the grace period), and closes the storage. */
  async shutdown(): Promise<void> {
    if (this.shutdownPromise === undefined) {
      this.shuttingDown = true
      this.shutdownPromise = (async () => {
        const started = this.startPromise === undefined ? undefined : await this.startPromise.catch(() => undefined)
        if (started !== undefined) {
          await this.runtime.runPromise(Effect.zipRight(started.executor.shutdown, Scope.close(started.scope, Exit.void)))
        }
        await this.runtime.dispose()
      })()
    }
    await this.shutdownPromise
  }
}
