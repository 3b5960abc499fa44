/**
 * The executor: the claim, expiry, lease-watch and schedule loops and the finish batcher, forked in
 * the layer's scope. Closing the scope shuts down gracefully: stop claiming, fire the shutdown signal,
 * wait up to the grace period, then interrupt what still runs and release its leases.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import * as LogLevel from "effect/LogLevel"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Changes from "./Changes.js"
import { InvalidExecutorConfig } from "./EngineError.js"
import type { ExecutionRow } from "./ExecutionRow.js"
import { ExecutorConfig } from "./ExecutorConfig.js"
import * as ExecutorConfigModule from "./ExecutorConfig.js"
import { Ids } from "./Ids.js"
import * as ClaimLoop from "./internal/executor/ClaimLoop.js"
import * as ExecutionLog from "./internal/executor/ExecutionLog.js"
import { ExecutorState, RunningExecution } from "./internal/executor/ExecutorState.js"
import * as FinishBatcher from "./internal/executor/FinishBatcher.js"
import * as ExpireLoop from "./internal/executor/LeaseExpiryLoop.js"
import * as LeaseWatchLoop from "./internal/executor/LeaseWatchLoop.js"
import * as Loop from "./internal/executor/Loop.js"
import * as PlainRunner from "./internal/executor/PlainRunner.js"
import * as RetentionLoop from "./internal/executor/RetentionLoop.js"
import * as Runner from "./internal/executor/Runner.js"
import * as RunSpan from "./internal/executor/RunSpan.js"
import { RunTimeouts } from "./internal/executor/RunTimeouts.js"
import * as ScheduleLoop from "./internal/executor/ScheduleLoop.js"
import * as MetricsRecorder from "./internal/MetricsRecorder.js"
import * as StorageSpans from "./internal/StorageSpans.js"
import * as Tracing from "./internal/Tracing.js"
import * as Metrics from "./Metrics.js"
import type * as Planner from "./Planner.js"
import { Registry } from "./Registry.js"
import { ScheduleStorage } from "./ScheduleStorage.js"
import { Signals } from "./Signals.js"
import { TaskStorage } from "./TaskStorage.js"

/** @since 0.1.0 @category models */
export interface ExecutorService {
  readonly executorId: string
  /** Executions this executor runs right now. */
  readonly runningCount: Effect.Effect<number>
  /** True once shutdown started: no new work is claimed or accepted. */
  readonly isShuttingDown: Effect.Effect<boolean>
  /** Graceful shutdown (idempotent); the scope's finalizer runs it too. */
  readonly shutdown: Effect.Effect<void>
  /**
   * Stops everything at once, writing nothing to storage, as if the process died: leases stay until
   * they lapse. For crash tests and simulations.
   */
  readonly kill: Effect.Effect<void>
}

/** @since 0.1.0 @category tags */
export class Executor extends Context.Tag("durable-tasks/Executor")<Executor, ExecutorService>() {}

/** Starts an executor in the current scope. @since 0.1.0 @category constructors */
export const make: Effect.Effect<
  ExecutorService,
  InvalidExecutorConfig,
  TaskStorage | Signals | Registry | ExecutorConfig | Ids | Scope.Scope
> = Effect.gen(function*() {
  const signals = yield* Signals
  // Every write through `storage` publishes its wake-ups (enqueue → claim loops, finish → waiters, cancel → runner).
  const published = Changes.publishing(yield* TaskStorage, signals)
  const registry = yield* Registry
  const config = yield* ExecutorConfig
  const ids = yield* Ids
  const problem = ExecutorConfigModule.validate(config)
  if (problem !== undefined) {
    return yield* new InvalidExecutorConfig({ message: `invalid executor options: ${problem}` })
  }
  // Read once: the engine's per-execution debug logs cost nothing unless the level is debug when it starts.
  const debug = LogLevel.lessThanEqual(yield* FiberRef.get(FiberRef.currentMinimumLogLevel), LogLevel.Debug)
  const executorId = config.executorId ?? (yield* ids.next("ex_"))
  // Read once too: a run span per attempt only when the executor starts under a tracer that exports.
  const tracer = yield* Tracing.currentTracer
  const storage = tracer === undefined ? published : StorageSpans.decorate(published, config.traceStorage)
  const plainContext = Option.getOrUndefined(yield* Effect.serviceOption(Tracing.PlainSpanContext))
  const spans = tracer === undefined
    ? undefined
    : plainContext?.direct !== undefined
    ? RunSpan.makeDirect(plainContext.direct, executorId)
    : RunSpan.make(tracer, executorId)
  const state = new ExecutorState()
  const scope = yield* Effect.scope
  const loopsScope = yield* Scope.fork(scope, ExecutionStrategy.sequential)

  const batcher = yield* Scope.extend(FinishBatcher.make({ storage, batchSize: config.finishBatchSize }), loopsScope)
  const timeouts = new RunTimeouts()
  const deps: Runner.RunnerDeps = {
    registry,
    ids,
    shutdownSignal: state.shutdownController.signal,
    maxSerializedValueBytes: config.maxSerializedValueBytes,
    maxChildrenPerParent: config.maxChildrenPerParent
  }

  /** Frees the execution's slot: its outcome was written, or there is none to write. */
  const release = (entry: RunningExecution): void => {
    timeouts.settle(entry)
    if (state.running.get(entry.executionId) === entry) state.running.delete(entry.executionId)
    state.claimWakeup.notify()
    state.idleWakeup.notify()
  }

  /** The attempt ended: its metrics, and its span ended (undefined: interrupted, nothing recorded). */
  const ended = (
    entry: RunningExecution,
    row: ExecutionRow,
    event: Planner.Event | undefined
  ): Planner.Event | undefined => {
    const nowMs = clock.unsafeCurrentTimeMillis()
    MetricsRecorder.attemptEnded(row.taskId, RunSpan.outcomeOf(event), nowMs - (entry.deadlineMs - row.timeoutMs))
    const span = entry.span
    if (span === undefined || spans === undefined) return event
    entry.span = undefined
    spans.end(span, row, event, clock.unsafeCurrentTimeNanos())
    return event === undefined ? undefined : spans.withChildrenTrace(span, event)
  }

  /** Queues the outcome to record; the slot stays taken until the batcher wrote it. */
  const record = (entry: RunningExecution, row: ExecutionRow, outcome: Planner.Event): void => {
    const event = ended(entry, row, outcome)!
    if (debug) runFork(ExecutionLog.outcome(row, event))
    batcher.offer({ executionId: row.executionId, event }, () => release(entry))
  }

  /** After an interruption: records a timed-out attempt when the timeout caused it, else nothing. */
  const interrupted = (entry: RunningExecution, row: ExecutionRow, nowMs: number): void => {
    if (entry.timedOut) return record(entry, row, Runner.timedOut(row, nowMs))
    ended(entry, row, undefined)
    release(entry)
  }

  /** The runner's fiber (Effect tasks): run, then queue the outcome. */
  const runner = (entry: RunningExecution, row: ExecutionRow): Effect.Effect<void> => {
    const run = Runner.outcome(deps, row, { onRunEnded: () => timeouts.settle(entry) })
    // The task's own spans are children of the run span.
    return Effect.onExit(entry.span === undefined ? run : Effect.withParentSpan(run, entry.span), (exit) => {
      if (Exit.isSuccess(exit)) return Effect.sync(() => record(entry, row, exit.value))
      if (Cause.isInterruptedOnly(exit.cause)) {
        return Effect.map(Clock.currentTimeMillis, (nowMs) => interrupted(entry, row, nowMs))
      }
      return Effect.zipRight(
        Effect.logError("durable-tasks: a runner failed unexpectedly; its lease will lapse", exit.cause),
        Effect.sync(() => {
          ended(entry, row, undefined)
          release(entry)
        })
      )
    }).pipe(
      Effect.asVoid,
      // The engine's logs of this run and the task's own Effect logs carry the execution.
      Effect.annotateLogs({ executionId: row.executionId, taskId: row.taskId, attempt: row.retryAttempts })
    )
  }

  // Runners are root fibers on the executor's runtime: forking them from a loop's fiber costs
  // several times more (the fiber refs are forked each time). They are kept in a FiberSet (the same
  // runFork plus an add), so closing the executor's scope interrupts any that is left.
  const runners = yield* FiberSet.make<void, never>()
  const runFork = yield* FiberSet.runtime(runners)<never>()
  const clock = yield* Effect.clock

  const plain = PlainRunner.make({
    deps,
    clock,
    onRunEnded: (entry) => timeouts.settle(entry),
    onOutcome: (entry, row, event) => {
      if (!Effect.isEffect(event)) return record(entry, row, event)
      // Building the outcome needs an effect (children to validate): a fiber for this one.
      runFork(Effect.matchCauseEffect(event, {
        onSuccess: (e) => Effect.sync(() => record(entry, row, e)),
        onFailure: (cause) =>
          Effect.zipRight(
            Effect.logError("durable-tasks: a runner failed unexpectedly; its lease will lapse", cause),
            Effect.sync(() => {
              ended(entry, row, undefined)
              release(entry)
            })
          )
      }))
    },
    onInterrupted: (entry, row) => interrupted(entry, row, clock.unsafeCurrentTimeMillis())
  })

  /** Starts a runner for a row claimed at `nowMs`: a plain run, or a fiber. */
  const start = (row: ExecutionRow, nowMs: number): Effect.Effect<void> =>
    Effect.sync(() => {
      const entry = new RunningExecution(row.executionId, row.leaseId ?? "", nowMs + row.timeoutMs)
      if (debug) runFork(ExecutionLog.claimed(row, executorId))
      MetricsRecorder.started(row, nowMs)
      // A runner of an earlier claim still here lost its lease (this claim proves it): it may have missed
      // its cancel (a retry re-opened the execution before the lease watch noticed), so it stops now.
      const previous = state.running.get(row.executionId)
      if (previous !== undefined) runFork(previous.interruptFork())
      state.running.set(row.executionId, entry)
      timeouts.add(entry)
      const definition = registry.get(row.taskId)
      if (spans !== undefined) entry.span = spans.start(row, clock.unsafeCurrentTimeNanos())
      const span = entry.span
      // When tracing, a plain task runs in its run span's context: set by `PlainSpanContext` when the app
      // provides one (the facade's OpenTelemetry), else by a fiber (the tracer's own context hook).
      if (PlainRunner.canRunPlain(definition) && (span === undefined || plainContext !== undefined)) {
        plain.start(entry, row, definition, span === undefined ? undefined : (f) => plainContext!.within(span, f))
      } // Interruptible whatever the caller's region (the claim loop starts runners in an uninterruptible step).
      else entry.fiber = runFork(Effect.interruptible(runner(entry, row)))
    })
  yield* signals.subscribe({
    ready: () => state.claimWakeup.notify(),
    cancelled: (executionIds) => {
      for (const id of executionIds) {
        const running = state.running.get(id)
        if (running !== undefined) runFork(running.interrupt())
      }
    }
  }).pipe(Scope.extend(loopsScope))

  const claimFiber = yield* ClaimLoop.run({
    state,
    storage,
    registry,
    ids,
    executorId,
    maxConcurrent: config.maxConcurrentTaskExecutions,
    leaseLeewayMs: config.leaseLeewayMs,
    pollIntervalMs: config.pollIntervalMs,
    start
  }).pipe(Effect.forkIn(loopsScope))
  yield* ExpireLoop.run({ state, storage, registry, pollIntervalMs: config.pollIntervalMs }).pipe(
    Effect.forkIn(loopsScope)
  )
  yield* LeaseWatchLoop.run({ state, storage, pollIntervalMs: config.pollIntervalMs }).pipe(Effect.forkIn(loopsScope))
  yield* timeouts.run.pipe(Effect.forkIn(loopsScope))
  const runningGauge = Metric.tagged(Metrics.running, "executor_id", executorId)
  yield* Loop.run(
    "metrics",
    Effect.zipRight(
      Effect.suspend(() => Metric.set(runningGauge, state.running.size)),
      Effect.as(Effect.sleep(config.pollIntervalMs), true)
    ),
    config.pollIntervalMs
  ).pipe(Effect.forkIn(loopsScope))
  if (config.retention !== undefined) {
    yield* RetentionLoop.run({ state, storage, retention: config.retention }).pipe(Effect.forkIn(loopsScope))
  }
  // Cron schedules, when the storage keeps them.
  const schedules = yield* Effect.serviceOption(ScheduleStorage)
  if (Option.isSome(schedules)) {
    yield* ScheduleLoop.run({
      state,
      schedules: tracer === undefined ? schedules.value : StorageSpans.decorate(schedules.value, config.traceStorage),
      signals,
      registry,
      pollIntervalMs: config.pollIntervalMs
    }).pipe(Effect.forkIn(loopsScope))
  }

  const done = yield* Deferred.make<void>()
  const waitIdle = Effect.gen(function*() {
    while (state.running.size > 0) yield* state.idleWakeup.wait(state.idleWakeup.version, 50)
  })
  const shutdown = Effect.gen(function*() {
    if (state.stopping) return yield* Deferred.await(done)
    state.stopping = true
    state.claimWakeup.notify()
    yield* Fiber.interrupt(claimFiber)
    state.shutdownController.abort()
    // `shutdown` is uninterruptible; the wait must stay interruptible or the grace-period timeout cannot stop it.
    const idle = yield* Effect.timeout(Effect.interruptible(waitIdle), config.shutdownGracePeriodMs).pipe(Effect.option)
    if (Option.isNone(idle)) {
      const left = Array.from(state.running.values())
      yield* Effect.forEach(left, (r) => r.interruptFork(), { discard: true })
      yield* Effect.forEach(left, (r) => r.interrupt(), { discard: true })
      const nowMs = yield* Clock.currentTimeMillis
      yield* storage.apply(
        left.map((r) => ({ executionId: r.executionId, event: { _tag: "Release", nowMs, leaseId: r.leaseId } }))
      )
        .pipe(
          Effect.catchAll((error) => Effect.logWarning("durable-tasks: releasing leases at shutdown failed", error))
        )
    }
    yield* Scope.close(loopsScope, Exit.void)
    yield* Deferred.succeed(done, undefined)
  }).pipe(Effect.uninterruptible)
  const kill = Effect.gen(function*() {
    state.stopping = true
    state.shutdownController.abort()
    // The loops (the finish batcher among them) stop first, so that nothing more is written.
    yield* Scope.close(loopsScope, Exit.void)
    const left = Array.from(state.running.values())
    yield* Effect.forEach(left, (r) => r.interruptFork(), { discard: true })
    yield* Effect.forEach(left, (r) => r.interrupt(), { discard: true })
    yield* Deferred.succeed(done, undefined)
  }).pipe(Effect.uninterruptible)
  yield* Effect.addFinalizer(() => shutdown)

  return {
    executorId,
    runningCount: Effect.sync(() => state.running.size),
    isShuttingDown: Effect.sync(() => state.stopping),
    shutdown,
    kill
  }
})

/** The executor as a layer. @since 0.1.0 @category layers */
export const layer: Layer.Layer<
  Executor,
  InvalidExecutorConfig,
  TaskStorage | Signals | Registry | ExecutorConfig | Ids
> = Layer.scoped(
  Executor,
  make
)
