/**
 * Review: a run that ends interrupted by itself (not by the executor) writes nothing: the row stays
 * `running` until its lease lapses, and then fails as "its executor stopped".
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as DurableExecutor from "../../src/DurableExecutor.js"
import * as Task from "../../src/Task.js"
import { settle, waitFor } from "../support/effect.js"

describe("review: a run interrupted from inside", () => {
  it.effect("is recorded as a failed run at once", () => {
    let runs = 0
    const task = Task.make({
      id: "joins-an-interrupted-fiber",
      timeoutMs: 60_000,
      run: () =>
        Effect.gen(function*() {
          runs++
          const worker = yield* Effect.fork(Effect.never)
          yield* Fiber.interrupt(worker)
          return yield* Fiber.join(worker) // interrupted cause, the runner itself was not interrupted
        })
    })
    return Effect.gen(function*() {
      const dx = yield* DurableExecutor.DurableExecutor
      const id = yield* dx.enqueue(task, undefined)
      yield* waitFor("ran", Effect.sync(() => runs === 1))
      yield* settle
      expect((yield* dx.get(id)).status).toBe("failed")
    }).pipe(Effect.provide(DurableExecutor.layerMemory({ tasks: [task] })))
  })
})
