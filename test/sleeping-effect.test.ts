/**
 * Sleeping tasks through the Effect API on memory under TestClock: `Task.sleeping` with an output
 * Schema, `executor.wakeup` completing a parent's child (the output encoded with the Schema, once);
 * a sleep not woken ends timed_out at its timeout, not a millisecond before.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import * as DurableExecutor from "../src/DurableExecutor.js"
import * as MemoryStorage from "../src/MemoryStorage.js"
import * as Signals from "../src/Signals.js"
import * as Task from "../src/Task.js"
import { settle, waitFor } from "./support/effect.js"

const paidAt = Task.sleeping({ id: "paid_at", timeoutMs: 60_000, output: Schema.DateFromNumber })
const order = Task.parent({
  id: "order",
  timeoutMs: 1_000,
  input: Schema.String,
  runParent: (id) => Effect.succeed({ output: id, children: [Task.child(paidAt, id)] })
})

const layer = () =>
  DurableExecutor.layer({ tasks: [order, paidAt], pollIntervalMs: 1_000 }).pipe(
    Layer.provide(Layer.merge(MemoryStorage.layer, Signals.layerMemory))
  )

describe("sleeping tasks on the Effect API", () => {
  it.effect("wakeup completes a parent's child once, with the output Schema", () =>
    Effect.gen(function*() {
      const executor = yield* DurableExecutor.DurableExecutor
      const id = yield* executor.enqueue(order, "o-1")
      const missing = yield* Effect.either(
        executor.wakeup(paidAt, "o-2", { status: "completed", output: new Date(5) })
      )
      expect(Either.isLeft(missing) && missing.left._tag).toBe("ExecutionNotFound")
      yield* waitFor(
        "the child sleeps",
        Effect.map(executor.getExecutionTree(id), (tree) => tree.children.length === 1)
      )
      const woken = yield* executor.wakeup(paidAt, "o-1", { status: "completed", output: new Date(1_000) })
      expect(woken.status).toBe("completed")
      expect(woken.output).toEqual(new Date(1_000))
      const again = yield* executor.wakeup(paidAt, "o-1", { status: "completed", output: new Date(2_000) })
      expect(again.output).toEqual(new Date(1_000))
      const done = yield* executor.wait(id)
      expect(done.status).toBe("completed")
      expect((done.output as { childrenOutputs: ReadonlyArray<{ output: unknown }> }).childrenOutputs[0]!.output)
        .toBe(1_000)
    }).pipe(Effect.provide(layer())))

  it.effect("a sleep not woken ends timed_out at its timeout, not before", () =>
    Effect.gen(function*() {
      const executor = yield* DurableExecutor.DurableExecutor
      const id = yield* executor.enqueue(paidAt, "never")
      yield* TestClock.adjust(59_999)
      yield* settle
      expect((yield* executor.get(id)).status).toBe("running")
      yield* TestClock.adjust(1)
      yield* settle
      yield* waitFor("timed out", Effect.map(executor.get(id), (e) => e.status === "timed_out"))
      const late = yield* executor.wakeup(paidAt, "never", { status: "completed", output: new Date(0) })
      expect(late.status).toBe("timed_out")
    }).pipe(Effect.provide(layer())))
})
