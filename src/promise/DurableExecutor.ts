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
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as DurableExecutorModule from "../DurableExecutor.js"
import * as Executor from "../Executor.js"
import { ExecutorConfig, type ExecutorSettings } from "../ExecutorConfig.js"
import * as Ids from "../Ids.js"
import { Registry } from "../Registry.js"
import * as RegistryModule from "../Registry.js"
import type { Signals } from "../Signals.js"
import type { TaskDefinition } from "../TaskDefinition.js"
import type { TaskExecution } from "../TaskExecution.js"
import type { TaskStorage } from "../TaskStorage.js"
import * as Arguments from "./Arguments.js"
import { defectError } from "./Defects.js"
import * as EnqueueBatch from "./EnqueueBatch.js"
import {
  DurableExecutionNotFoundError,
  DurableExecutorOptionsError,
  DurableExecutorShutdownError,
  DurableTaskDefinitionError,
  DurableWaitAbortedError,
  fromEngineError
} from "./errors.js"
import { checkExecutorOptions, type DurableLogLevel } from "./executorOptions.js"
import * as Handle from "./Handle.js"
import * as Redrive from "./Redrive.js"
import type * as Schedules from "./Schedules.js"
import * as Sequential from "./Sequential.js"
import * as Serializer from "./Serializer.js"
import type { InferInput, InferOutput, StandardSchemaV1 } from "./StandardSchema.js"
import type { DurableStorage } from "./storage.js"
import * as TaskBuilder from "./TaskBuilder.js"
import * as Tracing from "./Tracing.js"
import type {
  DurableParentTaskOptions,
  DurableParentTaskOutput,
  DurableTask,
  DurableTaskEnqueueArguments,
  DurableTaskEnqueueManyOptions,
  DurableTaskEnqueueOptions,
  DurableTaskHandle,
  DurableTaskOptions
} from "./types.js"
import * as WaitQueue from "./WaitQueue.js"

/**
 * Options of `new DurableExecutor(storage, options)`; every field has a documented default. @since 0.1.0 @category
 * models
 */
export interface DurableExecutorOptions extends Partial<ExecutorSettings> {
  /** Engine log level. Default "warning". */
  readonly logLevel?: DurableLogLevel | undefined
  /** How task inputs and outputs are stored. Default: lossless (Date, Map, Set, BigInt, …: README "Values"). */
  readonly serializer?: Serializer.DurableSerializer | undefined
  /** Spans to the global `@opentelemetry/api` tracer provider (README "Observability"). Default false. */
  readonly tracing?: boolean | undefined
}

/** @since 0.1.0 @category models */
export type DurableTaskBuilder<TRawInput, TInput> = TaskBuilder.DurableTaskBuilder<TRawInput, TInput>

type Services = Registry | ExecutorConfig | Ids.Ids | TaskStorage | Signals

/**
 * The durable executor, as in the seed README.
 *
 * @since 0.1.0
 * @category models
 */
export class DurableExecutor extends Redrive.DurableRedrive {
  private readonly registry = RegistryModule.make()
  private readonly runtime: ManagedRuntime.ManagedRuntime<Services, unknown>
  private readonly sequences = new Map<string, Sequential.Sequence>()
  private clientPromise: Promise<DurableExecutorModule.ClientService> | undefined
  private waitQueuePromise: Promise<WaitQueue.WaitQueue> | undefined
  private waitQueue: WaitQueue.WaitQueue | undefined
  private readonly enqueues = EnqueueBatch.make(
    (items) => this.client().then((client) => this.run(client.enqueueBatch(items))),
    fromEngineError
  )
  /** Calls on the runtime not finished yet: shutdown lets them finish before it closes the storage. */
  private readonly inFlight = new Set<Promise<unknown>>()
  private readonly handleOperations: Handle.HandleOperations = {
    get: (executionId) => this.getExecution(executionId),
    wait: (executionId, options) => this.wait(executionId, options),
    cancel: (executionId) => this.cancelExecution(executionId)
  }
  private startPromise:
    | Promise<{ readonly executor: Executor.ExecutorService; readonly scope: Scope.CloseableScope }>
    | undefined
  private shutdownPromise: Promise<void> | undefined
  private shuttingDown = false
  private readonly values: ReturnType<typeof Serializer.fromOption>

  constructor(storage: DurableStorage, options: DurableExecutorOptions = {}) {
    super()
    if (storage === null || typeof storage !== "object" || !Layer.isLayer((storage as DurableStorage).layer)) {
      throw new DurableExecutorOptionsError(
        "DurableExecutor needs a storage: createInMemoryStorage(), createSqliteStorage(...) or " +
          "createPostgresStorage(...)"
      )
    }
    const { serializer, tracing, ...engineOptions } = options
    this.values = Serializer.fromOption(serializer)
    const { logLevel, settings } = checkExecutorOptions(engineOptions)
    this.runtime = ManagedRuntime.make(
      Layer.mergeAll(
        storage.layer,
        Layer.succeed(Registry, this.registry),
        Layer.succeed(ExecutorConfig, settings),
        Ids.layerRandom,
        Logger.minimumLogLevel(logLevel),
        Tracing.layer(tracing)
      )
    )
  }

  /** Runs `effect` on the runtime, counted in {@link inFlight} until it ends. */
  private exec<A, E>(effect: Effect.Effect<A, E, Services>, signal?: AbortSignal): Promise<Exit.Exit<A, unknown>> {
    const exit = this.runtime.runPromiseExit(effect, signal === undefined ? undefined : { signal })
    this.inFlight.add(exit)
    const done = () => void this.inFlight.delete(exit)
    exit.then(done, done)
    return exit
  }

  private async run<A, E>(effect: Effect.Effect<A, E, Services>, signal?: AbortSignal): Promise<A> {
    const exit = await this.exec(effect, signal)
    if (Exit.isSuccess(exit)) return exit.value
    throw this.errorOf(exit.cause, signal)
  }

  /**
   * The facade's error for a failed call: an engine error as its class; an interruption or the
   * runtime's disposal during shutdown as DurableExecutorShutdownError; a defect by its message.
   */
  private errorOf(cause: Cause.Cause<unknown>, signal?: AbortSignal): Error {
    const failure = Cause.failureOption(cause)
    if (Option.isSome(failure)) return fromEngineError(failure.value)
    if (signal?.aborted === true && Cause.isInterruptedOnly(cause)) return new DurableWaitAbortedError()
    if (this.shuttingDown) return new DurableExecutorShutdownError()
    return defectError(cause)
  }

  private client(): Promise<DurableExecutorModule.ClientService> {
    return this.clientPromise ??= this.run(DurableExecutorModule.makeClient(Effect.sync(() => this.shuttingDown)))
  }

  private waits(): Promise<WaitQueue.WaitQueue> {
    const runFork = (effect: Effect.Effect<void>) => void this.runtime.runFork(effect)
    const toError = (e: unknown) =>
      e instanceof WaitQueue.WaitAborted ? new DurableWaitAbortedError() : fromEngineError(e)
    return this.waitQueuePromise ??= this.run(WaitQueue.fromServices(this.registry, runFork, toError))
      .then((queue) => (this.waitQueue = queue))
  }

  /** Runs a client call; rejects after shutdown. */
  private async onClient<A>(f: (client: DurableExecutorModule.ClientService) => Effect.Effect<A, unknown>) {
    if (this.shuttingDown) throw new DurableExecutorShutdownError()
    return this.run(Effect.flatMap(Effect.promise(() => this.client()), f))
  }

  private getExecution(executionId: string): Promise<TaskExecution> {
    return this.onClient((c) => c.get(executionId))
  }

  private wait(executionId: string, options: Arguments.WaitOptions): Promise<TaskExecution> {
    if (this.shuttingDown) return Promise.reject(new DurableExecutorShutdownError())
    const wait = (waits: WaitQueue.WaitQueue) => waits.wait(executionId, options.pollMs, options.signal)
    // The common case holds no extra promise: the queue is there, and rejects with the facade's errors.
    return this.waitQueue !== undefined ? wait(this.waitQueue) : this.waits().then(wait)
  }

  private async cancelExecution(executionId: string): Promise<void> {
    await this.onClient((c) => c.cancel(executionId))
  }

  protected scheduling(): Schedules.SchedulingOps {
    const call: Schedules.SchedulingOps["call"] = (f) => this.client().then((c) => this.run(f(c)))
    return { registry: this.registry, shuttingDown: this.shuttingDown, call }
  }
  private register(definition: TaskDefinition): void {
    const result = this.registry.register(definition)
    if (Either.isLeft(result)) throw new DurableTaskDefinitionError(result.left.message)
  }

  private define<I, O>(
    options: DurableTaskOptions<any, any> | DurableParentTaskOptions<any, any, any>,
    kind: TaskDefinition["kind"],
    validator: TaskBuilder.Validator | undefined
  ): DurableTask<I, O> {
    const definition = TaskBuilder.buildDefinition(this.registry, options, kind, validator, this.values)
    this.register(definition)
    return { id: definition.id, definition }
  }

  /** Defines a task whose `run` returns its output. */
  task<TInput = undefined, TOutput = unknown>(
    options: DurableTaskOptions<TInput, TOutput>
  ): DurableTask<TInput, TOutput> {
    return this.define(options, "task", undefined)
  }

  /** Defines a parent task: `runParent` returns an output and children; an optional finalize task runs last. */
  parentTask<TInput = undefined, TRunOutput = unknown, TOutput = DurableParentTaskOutput<TRunOutput>>(
    options: DurableParentTaskOptions<TInput, TRunOutput, TOutput>
  ): DurableTask<TInput, TOutput> {
    return this.define(options, "parentTask", undefined)
  }

  private builder<TRawInput, TInput>(validator: TaskBuilder.Validator): DurableTaskBuilder<TRawInput, TInput> {
    return {
      task: (options) => this.define(options, "task", validator),
      parentTask: (options) => this.define(options, "parentTask", validator)
    }
  }

  /** Validates input with a function (sync or async) at enqueue; what it returns is the stored input. */
  validateInput<TRawInput, TInput>(
    validate: (input: TRawInput) => TInput | Promise<TInput>
  ): DurableTaskBuilder<TRawInput, TInput> {
    if (typeof validate !== "function") throw new DurableTaskDefinitionError("validateInput needs a function")
    return this.builder(TaskBuilder.functionValidator(validate))
  }

  /** Validates input with any Standard Schema (zod, valibot, arktype) or an effect `Schema`. */
  inputSchema<S extends StandardSchemaV1<any, any>>(schema: S): DurableTaskBuilder<InferInput<S>, InferOutput<S>>
  inputSchema<A, I>(schema: Schema.Schema<A, I, never>): DurableTaskBuilder<I, A>
  inputSchema(schema: StandardSchemaV1<any, any> | Schema.Schema<any, any, never>): DurableTaskBuilder<any, any> {
    if (Schema.isSchema(schema)) return this.builder(TaskBuilder.schemaValidator(Schema.standardSchemaV1(schema)))
    if (
      schema === null || typeof schema !== "object" ||
      typeof (schema as StandardSchemaV1)["~standard"]?.validate !== "function"
    ) {
      throw new DurableTaskDefinitionError("inputSchema needs a Standard Schema (zod, valibot, …) or an effect Schema")
    }
    return this.builder(TaskBuilder.schemaValidator(schema as StandardSchemaV1<any, any>))
  }

  /**
   * Runs tasks one after another: each task's input is the previous task's output. Its id derives
   * from the members' ids, so it is the same in every process.
   */
  sequentialTasks<const T extends readonly [DurableTask<any, any>, ...Array<DurableTask<any, any>>]>(
    ...tasks: T
  ): DurableTask<
    T[0] extends DurableTask<infer I, any> ? I : never,
    T extends readonly [...Array<any>, DurableTask<any, infer O>] ? O : never
  > {
    if (tasks.length === 0) throw new DurableTaskDefinitionError("sequentialTasks needs at least one task")
    tasks.forEach((t, i) => Arguments.ownTask(this.registry, t, `sequentialTasks: argument ${i}`))
    const id = Sequential.idOf(tasks.map((t) => t.id))
    const existing = this.sequences.get(id)
    if (existing !== undefined) {
      if (existing.members.length === tasks.length && existing.members.every((m, i) => m === tasks[i])) {
        return existing.task as never
      }
      throw new DurableTaskDefinitionError(`sequentialTasks: task id '${id}' is already used by another sequence`)
    }
    const root = TaskBuilder.buildDefinition(
      this.registry,
      Sequential.rootOptions(id, tasks),
      "parentTask",
      undefined,
      this.values
    )
    const definition = { ...root, prepareInput: tasks[0].definition.prepareInput }
    this.register(definition)
    const task = { id, definition }
    this.sequences.set(id, { members: tasks, task })
    return task as never
  }

  /**
   * Validates the input and stores a new execution; returns its handle. The input may be left out
   * when the task's input type admits `undefined`.
   */
  async enqueueTask<TInput, TOutput>(
    task: DurableTask<TInput, TOutput>,
    ...args: DurableTaskEnqueueArguments<TInput>
  ): Promise<DurableTaskHandle<TOutput>>
  async enqueueTask(task: DurableTask<unknown, unknown>, input?: unknown, options?: DurableTaskEnqueueOptions) {
    if (this.shuttingDown) throw new DurableExecutorShutdownError()
    Arguments.ownTask(this.registry, task, "enqueueTask")
    // Calls made together (e.g. Promise.all over many enqueueTask) are stored in one transaction.
    const executionId = await this.enqueues.add({ task, input, options, parentSpan: Tracing.callerSpan() })
    return Handle.make(this.handleOperations, task.id, executionId)
  }

  /**
   * Validates many inputs of one task and stores their executions in one storage transaction (much
   * faster than one `enqueueTask` each); returns their handles in input order. All or nothing: when
   * one input is invalid, none is stored. With `idempotencyKey: (input, index) => key`, an input whose
   * key is taken gets a handle on the execution holding it.
   */
  async enqueueTasks<TInput, TOutput>(
    task: DurableTask<TInput, TOutput>,
    inputs: Iterable<TInput>,
    options?: DurableTaskEnqueueManyOptions<TInput>
  ): Promise<Array<DurableTaskHandle<TOutput>>> {
    if (this.shuttingDown) throw new DurableExecutorShutdownError()
    Arguments.ownTask(this.registry, task, "enqueueTasks")
    Arguments.checkInputs(inputs)
    const parent = Tracing.callerSpan()
    const client = await this.client()
    const enqueue = client.enqueueMany(task, inputs, options)
    const executionIds = await this.run(parent === undefined ? enqueue : Effect.withParentSpan(enqueue, parent))
    return executionIds.map((executionId) => Handle.make<TOutput>(this.handleOperations, task.id, executionId))
  }

  /** A handle on an existing execution of `task`; rejects with DurableExecutionNotFoundError if there is none. */
  async getTaskHandle<TInput, TOutput>(
    task: DurableTask<TInput, TOutput>,
    executionId: string
  ): Promise<DurableTaskHandle<TOutput>> {
    if (this.shuttingDown) throw new DurableExecutorShutdownError()
    Arguments.ownTask(this.registry, task, "getTaskHandle")
    Arguments.checkExecutionId(executionId, "getTaskHandle")
    const execution = await this.getExecution(executionId)
    if (execution.taskId !== task.id) {
      throw new DurableExecutionNotFoundError(`task execution ${executionId} is not an execution of task '${task.id}'`)
    }
    return Handle.make(this.handleOperations, task.id, executionId)
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

  /**
   * Stops claiming, fires running tasks' shutdown signal, waits for them (up to the grace period),
   * rejects the waits still pending with DurableExecutorShutdownError, and closes the storage. From
   * the call on, every method that reads or writes storage rejects with DurableExecutorShutdownError;
   * defining tasks still works. Idempotent.
   */
  async shutdown(): Promise<void> {
    if (this.shutdownPromise === undefined) {
      this.shuttingDown = true
      this.shutdownPromise = this.stop()
    }
    await this.shutdownPromise
  }

  private async stop(): Promise<void> {
    const started = this.startPromise === undefined ? undefined : await this.startPromise.catch(() => undefined)
    const stopped = started === undefined
      ? Exit.void
      : await this.runtime.runPromiseExit(
        Effect.zipRight(started.executor.shutdown, Scope.close(started.scope, Exit.void))
      )
    // Waits whose executions did not finish while running tasks drained end here, and so does their
    // poller: nothing of this executor keeps the process alive once shutdown resolves.
    const waits = this.waitQueuePromise === undefined ? undefined : await this.waitQueuePromise.catch(() => undefined)
    if (waits !== undefined) {
      const refusal = (executionId: string) =>
        new DurableExecutorShutdownError(`the durable executor shut down before task execution ${executionId} finished`)
      await this.runtime.runPromise(waits.close(refusal))
    }
    await Promise.allSettled(this.inFlight)
    await this.runtime.dispose()
    if (Exit.isFailure(stopped)) throw defectError(stopped.cause)
  }
}
