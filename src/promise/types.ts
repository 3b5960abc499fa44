/**
 * The Promise facade's types, with the seed README's names.
 *
 * @since 0.1.0
 */
import type { TaskLike } from "../DurableExecutor.js"
import type { ExecutionError, ExecutionRef } from "../ExecutionRow.js"
import type { RetryOptions } from "../RetryOptions.js"
import type { TaskExecution } from "../TaskExecution.js"

/** A task: enqueue it with `executor.enqueueTask(task, input)`. @since 0.1.0 @category models */
export interface DurableTask<TInput, TOutput> extends TaskLike<TInput, TOutput> {}

/** What `run` and `runParent` receive first. @since 0.1.0 @category models */
export interface DurableTaskRunContext {
  readonly taskId: string
  readonly executionId: string
  /** 0 on the first run, 1 on the first retry, … */
  readonly attempt: number
  /** The error of the previous attempt, on a retry. */
  readonly prevError: ExecutionError | undefined
  /** Fires when the execution is cancelled or times out. */
  readonly cancelSignal: AbortSignal
  /** Fires when the executor starts shutting down. */
  readonly shutdownSignal: AbortSignal
  readonly rootTaskExecution?: ExecutionRef | undefined
  readonly parentTaskExecution?:
    | (ExecutionRef & {
      readonly indexInParentChildTaskExecutions: number
      readonly isFinalizeTaskOfParentTask: boolean
    })
    | undefined
}

/** Settings shared by every kind of task. @since 0.1.0 @category models */
export interface DurableTaskCommonOptions {
  /** 1–255 printable ASCII characters, unique per executor. */
  readonly id: string
  /** Each run is interrupted (its `cancelSignal` fires) after this many ms. */
  readonly timeoutMs: number
  /** `maxAttempts` counts retries: 5 means up to 6 runs. Default: no retries. */
  readonly retryOptions?: Partial<RetryOptions> | undefined
  /** Delay before the first run (durable: no executor slot is held). Default 0. */
  readonly sleepMsBeforeRun?: number | undefined
  /** Limits enforced in storage across every executor: `limit` running, `perKey` running per concurrency key. */
  readonly concurrency?: { readonly limit?: number; readonly perKey?: number } | undefined
}

/** @since 0.1.0 @category models */
export interface DurableTaskOptions<TInput, TOutput> extends DurableTaskCommonOptions {
  readonly run: (ctx: DurableTaskRunContext, input: TInput) => TOutput | Promise<TOutput>
}

/** A child a parent run asks for. @since 0.1.0 @category models */
export interface DurableChildTask {
  readonly task: DurableTask<any, any>
  readonly input: any
}

/** What `runParent` returns. @since 0.1.0 @category models */
export interface DurableParentTaskRunResult<TRunOutput> {
  readonly output: TRunOutput
  readonly childrenTasks?: ReadonlyArray<DurableChildTask> | undefined
}

/** One child's result, as a parent's output and a finalize task's input carry it. @since 0.1.0 @category models */
export interface DurableChildTaskExecutionOutput extends ExecutionRef {
  readonly output: unknown
}

/** What a finalize task receives. @since 0.1.0 @category models */
export interface DurableFinalizeTaskInput<TInput, TRunOutput> {
  readonly input: TInput
  readonly output: TRunOutput
  readonly childrenTasksOutputs: Array<DurableChildTaskExecutionOutput>
}

/** The output of a parent task without a finalize task. @since 0.1.0 @category models */
export interface DurableParentTaskOutput<TRunOutput> {
  readonly output: TRunOutput
  readonly childrenOutputs: Array<DurableChildTaskExecutionOutput>
}

/** A finalize task: a plain task or itself a parent task. @since 0.1.0 @category models */
export type DurableFinalizeTaskOptions<TFinalizeInput, TOutput> =
  | DurableTaskOptions<TFinalizeInput, TOutput>
  | DurableParentTaskOptions<TFinalizeInput, any, TOutput>

/** @since 0.1.0 @category models */
export interface DurableParentTaskOptions<TInput, TRunOutput, TOutput> extends DurableTaskCommonOptions {
  readonly runParent: (
    ctx: DurableTaskRunContext,
    input: TInput
  ) => DurableParentTaskRunResult<TRunOutput> | Promise<DurableParentTaskRunResult<TRunOutput>>
  readonly finalizeTask?: DurableFinalizeTaskOptions<DurableFinalizeTaskInput<TInput, TRunOutput>, TOutput> | undefined
}

/** An execution as `getExecution` returns it. @since 0.1.0 @category models */
export type DurableTaskExecution<TOutput = unknown> = TaskExecution<TOutput>

/**
 * Per-enqueue options: overrides of the task's settings, an idempotency key, and when the first run
 * may start (at most one of `sleepMsBeforeRun`, `delayMs` and `startAt`). @since 0.1.0 @category models
 */
export interface DurableTaskEnqueueOptions {
  readonly timeoutMs?: number | undefined
  readonly retryOptions?: Partial<RetryOptions> | undefined
  readonly sleepMsBeforeRun?: number | undefined
  /**
   * The first enqueue with this key creates the execution; every later `enqueueTask` of the same
   * task with the same key, from any process, returns a handle on that execution, whatever its
   * status. The first input wins: a later call's input is ignored, not compared. 1 to 255
   * characters; kept as long as the execution is stored.
   */
  readonly idempotencyKey?: string | undefined
  /** Delay before the first run, instead of the task's `sleepMsBeforeRun`. Stored: a restart keeps it. */
  readonly delayMs?: number | undefined
  /** The first run starts at this time, not before (a past time: at once). Stored: a restart keeps it. */
  readonly startAt?: Date | undefined
  /** Claim order among due ready executions: higher first; an integer, 0 by default (stored). */
  readonly priority?: number | undefined
  /** The key the task's `concurrency.perKey` limit counts by (1 to 255 characters; stored). */
  readonly concurrencyKey?: string | undefined
}

/**
 * Options of `enqueueTasks`: those of `enqueueTask`, with one idempotency key per input, from a
 * function of the input and its index. @since 0.1.0 @category models
 */
export interface DurableTaskEnqueueManyOptions<TInput = any> extends Omit<DurableTaskEnqueueOptions, "idempotencyKey"> {
  readonly idempotencyKey?: ((input: TInput, index: number) => string) | undefined
}

/**
 * The arguments of `enqueueTask` after the task: its input, which may be left out when the task's
 * input type admits `undefined`, and per-enqueue overrides.
 *
 * @since 0.1.0
 * @category models
 */
export type DurableTaskEnqueueArguments<TInput> = undefined extends TInput
  ? [input?: TInput, options?: DurableTaskEnqueueOptions]
  : [input: TInput, options?: DurableTaskEnqueueOptions]

/** A handle on one execution. @since 0.1.0 @category models */
export interface DurableTaskHandle<TOutput> {
  getTaskId(): string
  getExecutionId(): string
  getExecution(): Promise<DurableTaskExecution<TOutput>>
  /** Resolves once the execution finished; rejects with DurableWaitAbortedError when `signal` aborts. */
  waitAndGetExecution(
    options?: { readonly signal?: AbortSignal | undefined; readonly pollingIntervalMs?: number | undefined }
  ): Promise<DurableTaskExecution<TOutput>>
  /** Cancels the execution and its subtree; no effect once it finished. */
  cancel(): Promise<void>
}
