/**
 * Groups finishes that arrive together into one storage transaction, so throughput is not bound
 * by one commit per finished execution. Storage errors are retried with backoff; a command whose
 * lease was already used (a retried batch whose reply was lost) is rejected by the fence.
 *
 * @since 0.1.0
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Changes from "./Changes.js"
import type { StorageError } from "./EngineError.js"
import type { Signals } from "./Signals.js"
import type { Command, CommandResult, TaskStorage } from "./TaskStorage.js"

interface Pending {
  readonly command: Command
  readonly done: Deferred.Deferred<CommandResult, StorageError>
}

/** @since 0.1.0 @category models */
export interface FinishBatcher {
  readonly submit: (command: Command) => Effect.Effect<CommandResult, StorageError>
}

const notFound: CommandResult = { _tag: "NotFound" }

const retryPolicy = Schedule.exponential("20 millis", 2).pipe(Schedule.intersect(Schedule.recurs(6)))

/** Starts the batching loop in the current scope. @since 0.1.0 @category constructors */
export const make = (args: {
  readonly storage: TaskStorage["Type"]
  readonly signals: Signals["Type"]
  readonly batchSize: number
}): Effect.Effect<FinishBatcher, never, Scope.Scope> =>
  Effect.gen(function*() {
    const queue = yield* Queue.unbounded<Pending>()
    const flush = (batch: ReadonlyArray<Pending>) =>
      args.storage.apply(batch.map((p) => p.command)).pipe(
        Effect.retry(retryPolicy),
        Effect.tap((result) => Changes.publish(args.signals, result.changes)),
        // matchCauseEffect, not matchEffect: a defect in one apply must fail this batch, not kill the loop
        // (every later submit would wait forever).
        Effect.matchCauseEffect({
          onFailure: (cause) =>
            Effect.logWarning("durable-tasks: finishing executions failed; their leases will lapse", cause).pipe(
              Effect.zipRight(Effect.forEach(batch, (p) => Deferred.failCause(p.done, cause), { discard: true }))
            ),
          onSuccess: (result) =>
            Effect.forEach(batch, (p, i) => Deferred.succeed(p.done, result.results[i] ?? notFound), {
              discard: true
            })
        })
      )
    yield* Queue.takeBetween(queue, 1, args.batchSize).pipe(
      Effect.flatMap((chunk) => flush(Array.from(chunk))),
      Effect.forever,
      Effect.forkScoped
    )
    return {
      submit: (command) =>
        Effect.flatMap(Deferred.make<CommandResult, StorageError>(), (done) =>
          Effect.zipRight(Queue.offer(queue, { command, done }), Deferred.await(done)))
    }
  })
