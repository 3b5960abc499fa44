/**
 * What a simulated run is given (a {@link Scenario}) and what it reports (a {@link Report}).
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { CatchUp } from "../CronSchedule.js"
import type { EnqueueOptions, TaskLike } from "../DurableExecutor.js"
import type { ExecutionRow } from "../ExecutionRow.js"
import type { ExecutorSettings } from "../ExecutorConfig.js"
import type * as StorageDriver from "../StorageDriver.js"
import type * as TaskExecution from "../TaskExecution.js"
import type { FaultPlan } from "./Faults.js"

/** Settings of one simulated executor process (its id is given by the harness). @since 0.1.0 @category models */
export type ProcessSettings = Partial<Omit<ExecutorSettings, "executorId">>

/** Enqueue `task` with `input` at `atMs` (simulated ms from the start). @since 0.1.0 @category models */
export interface EnqueueStep {
  readonly atMs: number
  readonly task: TaskLike<any, any>
  readonly input: unknown
  readonly options?: EnqueueOptions
}

/**
 * Cancel at `atMs`: the execution of enqueue number `enqueued`, or `pick` (modulo their count)
 * among the executions unfinished then, in creation order.
 *
 * @since 0.1.0
 * @category models
 */
export interface CancelStep {
  readonly atMs: number
  readonly target: { readonly enqueued: number } | { readonly pick: number }
}

/**
 * Wait at `atMs`, through the engine's wait path (a client's `wait`, polling every
 * `pollIntervalMs`, with its wake-ups faulted like a process's), for the execution of enqueue
 * number `enqueued`, or `pick` (modulo their count) among the executions unfinished then. The wait
 * must resolve within `pollIntervalMs` (and a little slack) of the execution's finish.
 *
 * @since 0.1.0
 * @category models
 */
export interface WaitStep {
  readonly atMs: number
  readonly target: { readonly enqueued: number } | { readonly pick: number }
  /** Default: the first process's poll interval. */
  readonly pollIntervalMs?: number
}

/**
 * Define a cron schedule at `atMs` (through a client). The schedules are paused when faults stop;
 * then every tick from the first one up to the schedule's next tick must have exactly one
 * execution (with `catchUp: "all"`), and every tick execution must be at a tick of its cron.
 *
 * @since 0.1.0
 * @category models
 */
export interface ScheduleStep {
  readonly atMs: number
  readonly id: string
  readonly cron: string
  readonly catchUp: CatchUp
  readonly task: TaskLike<any, any>
  readonly input: unknown
}

/**
 * Wake up at `atMs`, through a client whose storage loses the reply of a wakeup now and then (the
 * client then wakes it up again), the sleeping execution of `task` named `sleepId`, with `result`;
 * `lost` drops the call (the execution then times out, unless another wakeup names it). An id no
 * execution holds yet is a miss, not a violation.
 *
 * @since 0.1.0
 * @category models
 */
export interface WakeupStep {
  readonly atMs: number
  readonly task: TaskLike<any, any>
  readonly sleepId: string
  readonly result: { readonly status: "completed"; readonly output: unknown } | {
    readonly status: "failed"
    readonly error: unknown
  }
  readonly lost?: boolean
}

/** A root execution at the end of a run. @since 0.1.0 @category models */
export interface RootOutcome {
  readonly index: number
  readonly task: TaskLike<any, any>
  readonly executionId: string | undefined
  readonly row: ExecutionRow | undefined
  /** The public view, with values decoded by the task's codecs. */
  readonly execution: TaskExecution.TaskExecution | undefined
}

/** What a run ended with, for the user's own properties. @since 0.1.0 @category models */
export interface Outcome {
  readonly roots: ReadonlyArray<RootOutcome>
  readonly rows: ReadonlyArray<ExecutionRow>
  /** How many times each execution's task function started (including runs that were cut off). */
  readonly runStarts: ReadonlyMap<string, number>
}

/**
 * At `atMs`: `one` retries `pick` (modulo their count) among the executions finished without
 * success then; `all` retries every such execution (`retryExecutions()`); `cancelTree` cancels the
 * descendants of the root of `pick` among the unfinished ones (`cancelExecutions({ rootExecutionId })`).
 *
 * @since 0.1.0
 * @category models
 */
export interface RedriveStep {
  readonly atMs: number
  readonly kind: "one" | "all" | "cancelTree"
  readonly pick: number
}

/** @since 0.1.0 @category models */
export interface Scenario {
  /** Fixes every random choice: fault decisions, cancel targets, and the fault plan when none is given. */
  readonly seed: number
  /** Every task (and child task) the workload uses: each executor process registers them all. */
  readonly tasks: ReadonlyArray<TaskLike<any, any>>
  readonly enqueues: ReadonlyArray<EnqueueStep>
  readonly cancels?: ReadonlyArray<CancelStep>
  readonly waits?: ReadonlyArray<WaitStep>
  /** Retries and bulk cancels at random times (issue 12, retry and redrive). */
  readonly redrives?: ReadonlyArray<RedriveStep>
  /** The processes running at the start; later ones take these settings in turn. Default: two. */
  readonly processes?: ReadonlyArray<ProcessSettings>
  /** How long faults last (simulated ms); then the liveness phase. Default 60 000. */
  readonly faultPhaseMs?: number
  /** Default: `Faults.random(seed, faultPhaseMs)`. */
  readonly faults?: FaultPlan | "none"
  /** The user's own properties over the outcome: each returned string is a violation. */
  readonly properties?: (outcome: Outcome) => ReadonlyArray<string>
  /** Receives every trace line (for `--trace`). */
  readonly onTrace?: (line: string) => void
  /**
   * The storage backend every process shares, built in a scope that closes at the end of the run
   * (for example `SqliteFile.backend(filename)`). Default: a fresh `MemoryStorage` backend.
   */
  readonly backend?: Effect.Effect<StorageDriver.Backend, unknown, Scope.Scope>
  /** Cron schedules to define (memory backend only). */
  readonly schedules?: ReadonlyArray<ScheduleStep>
  /** Wakeups of sleeping executions. */
  readonly wakeups?: ReadonlyArray<WakeupStep>
}

/** @since 0.1.0 @category models */
export interface Report {
  readonly seed: number
  readonly ok: boolean
  readonly violations: ReadonlyArray<string>
  /** Hash of the whole trace: the same seed gives the same hash. */
  readonly traceHash: string
  /** How often each fault kind and transition happened. */
  readonly coverage: Readonly<Record<string, number>>
  readonly simulatedMs: number
  readonly steps: number
  readonly executions: number
  readonly completed: number
  /** The last trace lines, to explain a failure. */
  readonly recentTrace: ReadonlyArray<string>
  readonly outcome: Outcome | undefined
}

/** Process settings that suit simulated runs. @since 0.1.0 @category constants */
export const defaultProcessSettings: ProcessSettings = {
  pollIntervalMs: 1_000,
  leaseLeewayMs: 1_000,
  maxConcurrentTaskExecutions: 8,
  shutdownGracePeriodMs: 1_000
}
