/**
 * Review: a defect in one `storage.apply` (a backend bug, a driver throwing) kills the finish
 * batcher's loop: every later finish waits forever, runners never free their slots.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as DurableExecutor from "../../src/DurableExecutor.js"
import * as MemoryStorage from "../../src/MemoryStorage.js"
import * as Task from "../../src/Task.js"
import { TaskStorage } from "../../src/TaskStorage.js"
import { settle, waitFor } from "../support/effect.js"
import { engineLayer } from "../support/engine.js"

describe("review: finish batcher and defects", () => {
  it.live("a defect in one finish does not stop later finishes", () => {
    const port = MemoryStorage.makeSync()
    let applies = 0
    const dieOnce = Layer.succeed(TaskStorage, {
      ...port,
      apply: (commands) =>
        Effect.suspend(() => (++applies === 1 ? Effect.die(new Error("driver bug")) : port.apply(commands)))
    })
    const task = Task.make({ id: "t", timeoutMs: 60_000, run: (n: number) => Effect.succeed(n) })
    return Effect.gen(function*() {
      const dx = yield* DurableExecutor.DurableExecutor
      yield* dx.enqueue(task, 1)
      yield* waitFor("first finish attempted", Effect.sync(() => applies === 1))
      yield* settle
      const second = yield* dx.enqueue(task, 2)
      yield* settle
      expect((yield* dx.get(second)).status).toBe("completed")
    }).pipe(Effect.provide(engineLayer({ tasks: [task], shutdownGracePeriodMs: 100 }, { storage: dieOnce })))
  })
})
