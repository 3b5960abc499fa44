/**
 * Review: a runner's cleanup removes the bookkeeping of a newer runner of the same execution
 * re-claimed by the same executor after the old lease lapsed, so the new runner is untracked.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"
import * as DurableExecutor from "../../src/DurableExecutor.js"
import * as Executor from "../../src/Executor.js"
import * as Task from "../../src/Task.js"
import { settle, waitFor } from "../support/effect.js"

const advance = (ms: number, step = 500) =>
  Effect.gen(function*() {
    for (let t = 0; t < ms; t += step) {
      yield* TestClock.adjust(step)
      yield* settle
    }
  })

describe("review: same-executor re-claim after a lapsed lease", () => {
  it.effect("the new run stays tracked when the old runner ends: counted, and interrupted when cancelled", () => {
    let runs = 0
    let secondInterrupted = false
    const task = Task.make({
      id: "overrun",
      timeoutMs: 10_000,
      retryOptions: { maxAttempts: 1 },
      run: () =>
        Effect.suspend(() => {
          runs++
          return runs === 1
            // overruns its timeout and lease: the timeout cannot interrupt an uninterruptible region
            ? Effect.uninterruptible(Effect.sleep(15_000))
            : Effect.never.pipe(Effect.onInterrupt(() =>
              Effect.sync(() => {
                secondInterrupted = true
              })
            ))
        })
    })
    return Effect.gen(function*() {
      const dx = yield* DurableExecutor.DurableExecutor
      const ex = yield* Executor.Executor
      const id = yield* dx.enqueue(task, undefined)
      yield* waitFor("first run", Effect.sync(() => runs === 1))
      yield* advance(12_000) // lease (10_000 + 100) lapsed: expired and re-claimed by this executor
      expect(runs).toBe(2)
      yield* advance(4_000) // the first runner's uninterruptible sleep ends; its late result is fenced
      expect(yield* ex.runningCount).toBe(1)
      yield* dx.cancel(id)
      yield* settle
      expect(secondInterrupted).toBe(true)
    }).pipe(Effect.provide(DurableExecutor.layerMemory({ tasks: [task], leaseLeewayMs: 100 })))
  })
})
