/**
 * A wait for an execution to finish: registered with the shared {@link Waiters} first (so that a
 * wake-up between the read and the sleep is not lost), then the row read; it sleeps until a wake-up or
 * its poll interval, and reads again.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { ExecutionNotFound } from "../EngineError.js"
import type { Registry } from "../Registry.js"
import type { Signals } from "../Signals.js"
import * as TaskExecution from "../TaskExecution.js"
import { isFinished } from "../TaskStatus.js"
import type { TaskStorage } from "../TaskStorage.js"
import * as Waiters from "./Waiters.js"

/** The client's `wait`, over its storage, wake-ups and registry. */
export const make = (deps: {
  readonly storage: TaskStorage["Type"]
  readonly signals: Signals["Type"]
  readonly registry: Registry["Type"]
  readonly defaultPollMs: number
}) => {
  const { registry, storage } = deps
  const waiters = Waiters.make({ storage, signals: deps.signals })
  return (executionId: string, options?: { readonly pollIntervalMs?: number }) =>
    Effect.gen(function*() {
      // At least 1 ms: a zero or negative interval would poll storage in a busy loop.
      const pollMs = Math.max(1, options?.pollIntervalMs ?? deps.defaultPollMs)
      for (;;) {
        let seenFinished = false
        let wake: (() => void) | undefined
        const stop = waiters.watch(executionId, pollMs, yield* Clock.currentTimeMillis, () => {
          seenFinished = true
          wake?.()
        })
        yield* waiters.start
        const row = yield* Effect.tapErrorCause(storage.get(executionId), () => Effect.sync(stop))
        if (row === undefined || isFinished(row.status)) {
          stop()
          if (row === undefined) return yield* new ExecutionNotFound({ executionId })
          return yield* TaskExecution.fromRow(row, registry)
        }
        yield* Effect.async<void>((resume) => {
          if (seenFinished) return resume(Effect.void)
          wake = () => resume(Effect.void)
          return Effect.sync(stop)
        })
      }
    })
}
