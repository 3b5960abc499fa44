/**
 * Review: graceful shutdown interrupts the claim loop, also while a claim's reply is on its way:
 * the rows that claim took are left `running` with no runner and no release.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/TestClock"
import * as DurableExecutor from "../../src/DurableExecutor.js"
import * as MemoryStorage from "../../src/MemoryStorage.js"
import * as Task from "../../src/Task.js"
import { TaskStorage } from "../../src/TaskStorage.js"
import { settle, waitFor } from "../support/effect.js"
import { engineLayer } from "../support/engine.js"

describe("review: shutdown during a claim", () => {
  it.effect("a row claimed just before shutdown is run or released, never left running without a runner", () => {
    const port = MemoryStorage.makeSync()
    let claimed = 0
    // The claim commits, then its reply takes a while (network, a busy database).
    const slowReply = Layer.succeed(TaskStorage, {
      ...port,
      claim: (request) =>
        Effect.tap(port.claim(request), (rows) =>
          rows.length === 0 ? Effect.void : Effect.zipRight(
            Effect.sync(() => {
              claimed += rows.length
            }),
            Effect.sleep(50)
          ))
    })
    let runs = 0
    const task = Task.make({
      id: "t",
      timeoutMs: 60_000,
      run: () =>
        Effect.sync(() => {
          runs++
        })
    })
    return Effect.gen(function*() {
      const dx = yield* DurableExecutor.DurableExecutor
      const id = yield* dx.enqueue(task, undefined)
      yield* waitFor("claimed", Effect.sync(() => claimed === 1))
      const shutdown = yield* Effect.fork(dx.shutdown)
      yield* settle
      yield* TestClock.adjust(50) // the claim's reply arrives
      yield* Fiber.join(shutdown)
      yield* settle
      const row = yield* dx.get(id)
      expect({ status: row.status, runs }).not.toEqual({ status: "running", runs: 0 })
      expect(row.status === "ready" || row.status === "completed").toBe(true)
    }).pipe(Effect.provide(engineLayer({ tasks: [task] }, { storage: slowReply })))
  })
})
