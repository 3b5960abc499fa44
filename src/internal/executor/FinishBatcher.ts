/**
 * Groups finishes that arrive together into one storage transaction, so throughput is not bound
 * by one commit per finished execution. Storage errors are retried with backoff; a command whose
 * lease was already used (a retried batch whose reply was lost) is rejected by the fence.
 *
 * @since 0.1.0
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type { StorageError } from "../../EngineError.js"
import type { Command, CommandResult, TaskStorage } from "../../TaskStorage.js"
import * as Loop from "./Loop.js"
import { Wakeup } from "./Wakeup.js"

interface Pending {
  readonly command: Command
  readonly onDone: (exit: Exit.Exit<CommandResult, StorageError>) => void
}

/** @since 0.1.0 @category models */
export interface FinishBatcher {
  /**
   * Queues a finish without waiting: `onDone` is called (in the batcher's fiber) once its batch was
   * written, with the command's result, or with the failure when the batch could not be written.
   */
  readonly offer: (command: Command, onDone: (exit: Exit.Exit<CommandResult, StorageError>) => void) => void
  /** Queues a finish and waits for its result. */
  readonly submit: (command: Command) => Effect.Effect<CommandResult, StorageError>
}

const notFound: CommandResult = { _tag: "NotFound" }

const retryPolicy = Schedule.exponential("20 millis", 2).pipe(Schedule.intersect(Schedule.recurs(6)))

/** Starts the batching loop in the current scope. @since 0.1.0 @category constructors */
export const make = (args: {
  /** The executor's storage, which publishes the wake-ups of what it changed. */
  readonly storage: TaskStorage["Type"]
  readonly batchSize: number
}): Effect.Effect<FinishBatcher, never, Scope.Scope> =>
  Effect.gen(function*() {
    let queue: Array<Pending> = []
    const wakeup = new Wakeup()
    const flush = (batch: ReadonlyArray<Pending>) =>
      args.storage.apply(batch.map((p) => p.command)).pipe(
        Effect.retry(retryPolicy),
        // matchCauseEffect, not matchEffect: a defect in one apply must fail this batch, not kill the loop
        // (every later finish would wait forever).
        Effect.matchCauseEffect({
          onFailure: (cause) =>
            Effect.logWarning("durable-tasks: finishing executions failed; their leases will lapse", cause).pipe(
              Effect.zipRight(Effect.sync(() => {
                const failed = Exit.failCause(cause)
                for (const p of batch) p.onDone(failed)
              }))
            ),
          onSuccess: (result) =>
            Effect.sync(() => {
              for (let i = 0; i < batch.length; i++) batch[i]!.onDone(Exit.succeed(result.results[i] ?? notFound))
            })
        })
      )
    const step = Effect.gen(function*() {
      if (queue.length === 0) {
        yield* wakeup.waitNotified(wakeup.version)
        return true
      }
      let batch: Array<Pending>
      if (queue.length <= args.batchSize) {
        batch = queue
        queue = []
      } else {
        batch = queue.splice(0, args.batchSize)
      }
      yield* flush(batch)
      return true
    })
    yield* Effect.forkScoped(Loop.run("finish batcher", step, 100))
    const offer: FinishBatcher["offer"] = (command, onDone) => {
      queue.push({ command, onDone })
      wakeup.notify()
    }
    return {
      offer,
      submit: (command) =>
        Effect.flatMap(Deferred.make<CommandResult, StorageError>(), (done) =>
          Effect.zipRight(
            Effect.sync(() => offer(command, (exit) => Deferred.unsafeDone(done, exit))),
            Deferred.await(done)
          ))
    }
  })
