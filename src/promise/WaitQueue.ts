/**
 * The facade's waits (`waitAndGetExecution`), without a fiber per waiting handle: waits started
 * together are checked together (one fiber, one `getMany`), and a wait whose execution is not
 * finished yet is a watch ({@link ../internal/Waiters}) that queues it for another check, together
 * with others, once the execution finished. Tens of thousands of waiting handles are then just
 * records and promises, not tens of thousands of live fibers.
 *
 * Measured (commits 5dea21b, 86b5c86): a check builds its finished executions without an effect each
 * (an effect costs ~600 bytes); waiting on 20,000 finished executions went from ~20 to ~7 µs per wait.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { ExecutionNotFound } from "../EngineError.js"
import type { ExecutionRow } from "../ExecutionRow.js"
import { ExecutorConfig } from "../ExecutorConfig.js"
import * as Waiters from "../internal/Waiters.js"
import type { RegistryService } from "../Registry.js"
import { Signals } from "../Signals.js"
import * as TaskExecution from "../TaskExecution.js"
import { isFinished } from "../TaskStatus.js"
import { TaskStorage } from "../TaskStorage.js"

/** A wait ended because its AbortSignal fired. @since 0.1.0 @category errors */
export class WaitAborted {
  readonly _tag = "WaitAborted"
}

/** @since 0.1.0 @category models */
export interface WaitQueue {
  /**
   * Resolves with the execution once it is finished; rejects with ExecutionNotFound, a StorageError
   * or {@link WaitAborted}, passed through `toError`.
   */
  readonly wait: (
    executionId: string,
    pollMs: number | undefined,
    signal: AbortSignal | undefined
  ) => Promise<TaskExecution.TaskExecution>
  /**
   * Stops watching (the poller ends now, so no timer keeps the process alive) and settles every
   * pending wait: with its execution when one last read finds it finished, else by rejecting with
   * `error(executionId)`. Later waits reject at once with it. Idempotent.
   */
  readonly close: (error: (executionId: string) => unknown) => Effect.Effect<void>
}

interface PendingWait {
  readonly executionId: string
  readonly pollMs: number
  readonly resolve: (execution: TaskExecution.TaskExecution) => void
  readonly reject: (error: unknown) => void
  readonly signal: AbortSignal | undefined
  onAbort: (() => void) | undefined
  stop: (() => void) | undefined
  done: boolean
  /** Neighbours in the list of pending waits. */
  prev: PendingWait | undefined
  next: PendingWait | undefined
}

const CHUNK = 1_000

/** @since 0.1.0 @category constructors */
export const make = (args: {
  readonly storage: TaskStorage["Type"]
  readonly signals: Signals["Type"]
  readonly registry: RegistryService
  readonly defaultPollMs: number
  /** Runs an effect in the background (the facade's runtime). */
  readonly runFork: (effect: Effect.Effect<void>) => void
  /** Turns what a wait rejects with (ExecutionNotFound, StorageError, {@link WaitAborted}) into the caller's error. */
  readonly toError?: (error: unknown) => unknown
}): WaitQueue => {
  const toError = args.toError ?? ((e: unknown) => e)
  const waiters = Waiters.make({ storage: args.storage, signals: args.signals })
  let toCheck: Array<PendingWait> = []
  let scheduled = false
  /**
   * Every wait not settled yet, so that {@link WaitQueue.close} can settle them: a list linked
   * through the waits themselves (measured: a `Set` of them cost ~2% of the CPU time of 100,000
   * trivial executions waited on through the facade, in hashing and rehashing).
   */
  let pendingHead: PendingWait | undefined
  const link = (p: PendingWait): void => {
    p.next = pendingHead
    if (pendingHead !== undefined) pendingHead.prev = p
    pendingHead = p
  }
  const unlink = (p: PendingWait): void => {
    if (p.prev !== undefined) p.prev.next = p.next
    else if (pendingHead === p) pendingHead = p.next
    if (p.next !== undefined) p.next.prev = p.prev
    p.prev = undefined
    p.next = undefined
  }
  const pendingWaits = (): Array<PendingWait> => {
    const out: Array<PendingWait> = []
    for (let p = pendingHead; p !== undefined; p = p.next) out.push(p)
    return out
  }
  let closedWith: ((executionId: string) => unknown) | undefined

  const settle = (p: PendingWait, settleWith: () => void): void => {
    if (p.done) return
    p.done = true
    unlink(p)
    p.stop?.()
    p.stop = undefined
    if (p.onAbort !== undefined) p.signal?.removeEventListener("abort", p.onAbort)
    settleWith()
  }

  const enqueue = (p: PendingWait): void => {
    toCheck.push(p)
    if (scheduled) return
    scheduled = true
    queueMicrotask(flush)
  }

  const flush = (): void => {
    scheduled = false
    const batch = toCheck.filter((p) => !p.done)
    toCheck = []
    if (batch.length > 0 && closedWith === undefined) args.runFork(check(batch))
  }

  /**
   * Reads the rows of the unsettled waits of `batch`, settles the finished (or missing) ones, and hands the others to
   * `onUnfinished`.
   */
  const settleFinished = (
    batch: ReadonlyArray<PendingWait>,
    onUnfinished: (p: PendingWait) => void
  ): Effect.Effect<void, unknown> =>
    Effect.gen(function*() {
      const ids: Array<string> = []
      for (const p of batch) if (!p.done) ids.push(p.executionId)
      const rows = new Map<string, ExecutionRow>()
      for (let i = 0; i < ids.length; i += CHUNK) {
        for (const row of yield* args.storage.getMany(ids.slice(i, i + CHUNK))) rows.set(row.executionId, row)
      }
      for (const p of batch) {
        if (p.done) continue
        const row = rows.get(p.executionId)
        if (row === undefined) {
          settle(p, () => p.reject(toError(new ExecutionNotFound({ executionId: p.executionId }))))
        } else if (isFinished(row.status)) {
          const execution = TaskExecution.fromRowSync(row, args.registry) ??
            (yield* TaskExecution.fromRow(row, args.registry))
          settle(p, () => p.resolve(execution))
        } else {
          onUnfinished(p)
        }
      }
    })

  const stillWaiting = (): void => {}

  /** Watches every wait of `batch` (so no finish is missed), reads their rows, settles the finished ones. */
  const check = (batch: ReadonlyArray<PendingWait>): Effect.Effect<void> =>
    Effect.gen(function*() {
      const nowMs = yield* Clock.currentTimeMillis
      for (const p of batch) {
        if (p.done || p.stop !== undefined) continue
        p.stop = waiters.watch(p.executionId, p.pollMs, nowMs, () => {
          p.stop = undefined
          enqueue(p)
        })
      }
      yield* waiters.start
      yield* settleFinished(batch, stillWaiting)
    }).pipe(
      Effect.catchAllCause((cause) =>
        Effect.sync(() => {
          const error = Cause.squash(cause)
          for (const p of batch) settle(p, () => p.reject(toError(error)))
        })
      )
    )

  return {
    wait: (executionId, pollMs, signal) =>
      new Promise((resolve, reject) => {
        if (closedWith !== undefined) return reject(closedWith(executionId))
        if (signal?.aborted === true) return reject(toError(new WaitAborted()))
        const p: PendingWait = {
          executionId,
          pollMs: pollMs ?? args.defaultPollMs,
          resolve,
          reject,
          signal,
          onAbort: undefined,
          stop: undefined,
          done: false,
          prev: undefined,
          next: undefined
        }
        if (signal !== undefined) {
          p.onAbort = () => settle(p, () => reject(toError(new WaitAborted())))
          signal.addEventListener("abort", p.onAbort, { once: true })
        }
        link(p)
        enqueue(p)
      }),
    close: (error) =>
      Effect.suspend(() => {
        if (closedWith !== undefined) return Effect.void
        closedWith = error
        toCheck = []
        waiters.close()
        const last = pendingWaits()
        const refuse = (p: PendingWait) => settle(p, () => p.reject(error(p.executionId)))
        // One last read: a wait whose execution finished (while running tasks drained) gets it.
        return settleFinished(last, refuse).pipe(Effect.catchAllCause(() => Effect.sync(() => last.forEach(refuse))))
      })
  }
}

/**
 * {@link make} over the storage, signals and poll interval of the running services.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromServices = (
  registry: RegistryService,
  runFork: (effect: Effect.Effect<void>) => void,
  toError: (error: unknown) => unknown
): Effect.Effect<WaitQueue, never, TaskStorage | Signals | ExecutorConfig> =>
  Effect.gen(function*() {
    const storage = yield* TaskStorage
    const signals = yield* Signals
    const config = yield* ExecutorConfig
    return make({ storage, signals, registry, defaultPollMs: config.pollIntervalMs, runFork, toError })
  })
