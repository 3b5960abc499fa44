/**
 * The executor: the claim, expiry and lease-watch loops and the finish batcher, forked in the
 * layer's scope. Closing the scope shuts down gracefully: stop claiming, fire the shutdown signal,
 * wait up to the grace period, then interrupt what still runs and release its leases.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Changes from "./Changes.js"
import * as ClaimLoop from "./ClaimLoop.js"
import * as ExpireLoop from "./ExpireLoop.js"
import type { ExecutionRow } from "./ExecutionRow.js"
import { ExecutorConfig } from "./ExecutorConfig.js"
import * as ExecutorConfigModule from "./ExecutorConfig.js"
import * as FinishBatcher from "./FinishBatcher.js"
import { Ids } from "./Ids.js"
import { ExecutorState } from "./internal/ExecutorState.js"
import * as LeaseWatchLoop from "./LeaseWatchLoop.js"
import { Registry } from "./Registry.js"
import * as Runtime from "effect/Runtime"
import * as Runner from "./Runner.js"
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
  never,
  TaskStorage | Signals | Registry | ExecutorConfig | Ids | Scope.Scope
> = Effect.gen(function*() {
  const storage = yield* TaskStorage
  const signals = yield* Signals
  const registry = yield* Registry
  const config = yield* ExecutorConfig
  const ids = yield* Ids
  const problem = ExecutorConfigModule.validate(config)
  if (problem !== undefined) return yield* Effect.dieMessage(`invalid executor options: ${problem}`)
  const executorId = config.executorId ?? (yield* ids.next("ex_"))
  const state = new ExecutorState()
  const scope = yield* Effect.scope
  const runnersScope = yield* Scope.fork(scope, ExecutionStrategy.parallel)
  const loopsScope = yield* Scope.fork(scope, ExecutionStrategy.sequential)

  const batcher = yield* Scope.extend(FinishBatcher.make({ storage, signals, batchSize: config.finishBatchSize }), loopsScope)
  const deps: Runner.RunnerDeps = {
    registry,
    ids,
    shutdownSignal: state.shutdownController.signal,
    maxSerializedValueBytes: config.maxSerializedValueBytes,
    maxChildrenPerParent: config.maxChildrenPerParent
  }

  const start = (row: ExecutionRow): Effect.Effect<void> =>
    Effect.gen(function*() {
      const started = yield* Deferred.make<void>()
      const fiber = yield* Runner.outcome(deps, row).pipe(
        Effect.flatMap((event) => batcher.submit({ executionId: row.executionId, event })),
        Effect.catchAll((error) => Effect.logWarning("durable-tasks: could not record an outcome", error)),
        Effect.zipLeft(Deferred.await(started), { concurrent: false }),
        Effect.ensuring(Effect.sync(() => {
          state.running.delete(row.executionId)
          state.claimWakeup.notify()
          state.idleWakeup.notify()
        })),
        Effect.asVoid,
        Effect.forkIn(runnersScope)
      )
      state.running.set(row.executionId, { executionId: row.executionId, leaseId: row.leaseId ?? "", fiber })
      yield* Deferred.succeed(started, undefined)
    })

  const runtime = yield* Effect.runtime<never>()
  const runFork = Runtime.runFork(runtime)
  yield* signals.subscribe({
    ready: () => state.claimWakeup.notify(),
    cancelled: (executionIds) => {
      for (const id of executionIds) {
        const running = state.running.get(id)
        if (running !== undefined) runFork(Fiber.interrupt(running.fiber))
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
  yield* ExpireLoop.run({ state, storage, signals, registry, pollIntervalMs: config.pollIntervalMs }).pipe(
    Effect.forkIn(loopsScope)
  )
  yield* LeaseWatchLoop.run({ state, storage, pollIntervalMs: config.pollIntervalMs }).pipe(Effect.forkIn(loopsScope))

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
      yield* Effect.forEach(left, (r) => Fiber.interrupt(r.fiber), { discard: true })
      const nowMs = yield* Clock.currentTimeMillis
      yield* storage.apply(left.map((r) => ({ executionId: r.executionId, event: { _tag: "Release", nowMs, leaseId: r.leaseId } })))
        .pipe(
          Effect.tap((result) => Changes.publish(signals, result.changes)),
          Effect.catchAll((error) => Effect.logWarning("durable-tasks: releasing leases at shutdown failed", error))
        )
    }
    yield* Scope.close(loopsScope, Exit.void)
    yield* Deferred.succeed(done, undefined)
  }).pipe(Effect.uninterruptible)
  const kill = Effect.gen(function*() {
    state.stopping = true
    state.shutdownController.abort()
    yield* Scope.close(runnersScope, Exit.void)
    yield* Scope.close(loopsScope, Exit.void)
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
export const layer: Layer.Layer<Executor, never, TaskStorage | Signals | Registry | ExecutorConfig | Ids> = Layer.scoped(
  Executor,
  make
)
