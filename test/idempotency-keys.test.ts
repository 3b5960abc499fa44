/**
 * Idempotent enqueue on memory, SQLite and Postgres through the Promise facade: one execution per
 * task and key, whoever asks (again, at once, or from another storage on the same data, as another
 * process would), whatever the execution's status; the first input wins; bad keys are refused.
 */
import { describe, expect, it } from "vitest"
import { DurableTaskDefinitionError } from "../src/index.js"
import { caught } from "./support/caught.js"
import { places, rowsOf, withPlace } from "./support/places.js"

const TIMEOUT = 30_000

describe.each(places)("idempotency keys on %s", (_name, makePlace) => {
  it(
    "the same key twice: the same execution, one row, the first input wins",
    () =>
      withPlace(makePlace, async (place, executor) => {
        const storage = place.open()
        const ex = await executor(storage)
        const echo = ex.task({ id: "echo", timeoutMs: 5_000, run: (_ctx, n: number) => n })
        const first = await ex.enqueueTask(echo, 1, { idempotencyKey: "order-42" })
        const done = await first.waitAndGetExecution({ pollingIntervalMs: 20 })
        expect(done.output).toBe(1)
        // After it finished, a second call with another input is a handle on the same, finished execution.
        const second = await ex.enqueueTask(echo, 2, { idempotencyKey: "order-42" })
        expect(second.getExecutionId()).toBe(first.getExecutionId())
        expect((await second.getExecution()).output).toBe(1)
        const rows = await rowsOf(storage)
        expect(rows).toHaveLength(1)
        expect(rows[0]!.idempotencyKey).toBe("order-42")
        // Without a key, each call is a new execution.
        const a = await ex.enqueueTask(echo, 3)
        const b = await ex.enqueueTask(echo, 3)
        expect(a.getExecutionId()).not.toBe(b.getExecutionId())
      }),
    TIMEOUT
  )

  it(
    "20 concurrent enqueues with one key store one execution; batches map repeated keys to it",
    () =>
      withPlace(makePlace, async (place, executor) => {
        const storage = place.open()
        const ex = await executor(storage)
        const echo = ex.task({ id: "echo", timeoutMs: 5_000, run: (_ctx, n: number) => n })
        const handles = await Promise.all(
          Array.from({ length: 20 }, (_, i) => ex.enqueueTask(echo, i, { idempotencyKey: "k" }))
        )
        expect(new Set(handles.map((h) => h.getExecutionId())).size).toBe(1)
        const batch = await ex.enqueueTasks(echo, [10, 11, 12, 13], {
          idempotencyKey: (n) => (n % 2 === 0 ? "k" : `odd-${n}`)
        })
        const ids = batch.map((h) => h.getExecutionId())
        expect(ids[0]).toBe(handles[0]!.getExecutionId())
        expect(ids[2]).toBe(handles[0]!.getExecutionId())
        expect(new Set(ids).size).toBe(3)
        expect(await rowsOf(storage)).toHaveLength(3)
        const outputs = await Promise.all(batch.map(async (h) => (await h.waitAndGetExecution()).output))
        expect(outputs[1]).toBe(11)
        expect(outputs[0]).toBe(outputs[2])
      }),
    TIMEOUT
  )

  it("different tasks with the same key are two executions", () =>
    withPlace(makePlace, async (place, executor) => {
      const storage = place.open()
      const ex = await executor(storage)
      const a = ex.task({ id: "a", timeoutMs: 5_000, run: () => "a" })
      const b = ex.task({ id: "b", timeoutMs: 5_000, run: () => "b" })
      const ha = await ex.enqueueTask(a, undefined, { idempotencyKey: "same" })
      const hb = await ex.enqueueTask(b, undefined, { idempotencyKey: "same" })
      expect(ha.getExecutionId()).not.toBe(hb.getExecutionId())
      expect((await hb.waitAndGetExecution()).output).toBe("b")
      expect(await rowsOf(storage)).toHaveLength(2)
    }), TIMEOUT)

  it(
    "bad keys are refused, naming the option, and nothing is stored",
    () =>
      withPlace(makePlace, async (place, executor) => {
        const storage = place.open()
        const ex = await executor(storage)
        const t = ex.task({ id: "t", timeoutMs: 5_000, run: () => 1 })
        const cases: ReadonlyArray<readonly [unknown, string]> = [
          ["", "idempotencyKey must be a non-empty string of at most 255 characters, got string \"\""],
          [42, "idempotencyKey must be a non-empty string of at most 255 characters, got number 42"],
          ["x".repeat(256), "got 256 characters"],
          ["a\u0000b", "must not contain a NUL character or a lone surrogate"],
          ["\ud800", "must not contain a NUL character or a lone surrogate"]
        ]
        for (const [key, message] of cases) {
          const error = await caught(() => ex.enqueueTask(t, undefined, { idempotencyKey: key as never }))
          expect(error).toBeInstanceOf(DurableTaskDefinitionError)
          expect(error.message).toContain("enqueue options of task 't': ")
          expect(error.message).toContain(message)
        }
        const batchString = await caught(() => ex.enqueueTasks(t, [undefined], { idempotencyKey: "k" as never }))
        expect(batchString.message).toContain("idempotencyKey of a batch must be a function")
        const badFromFunction = await caught(() =>
          ex.enqueueTasks(t, [undefined, undefined], { idempotencyKey: () => "" })
        )
        expect(badFromFunction.message).toContain("input 0: idempotencyKey must be a non-empty string")
        const misspelt = await caught(() => ex.enqueueTask(t, undefined, { idempotencyKy: "k" } as never))
        expect(misspelt.message).toContain("did you mean 'idempotencyKey'?")
        // The longest key is accepted.
        await ex.enqueueTask(t, undefined, { idempotencyKey: "x".repeat(255) })
        expect(await rowsOf(storage)).toHaveLength(1)
      }),
    TIMEOUT
  )

  it(
    "two storages on the same data (two processes) racing with one key: one execution",
    () =>
      withPlace(makePlace, async (place, executor) => {
        if (place.shared) return // memory is one process's
        const [one, two] = [place.open(), place.open()]
        const [exOne, exTwo] = [await executor(one), await executor(two)]
        const define = (ex: typeof exOne) => ex.task({ id: "charge", timeoutMs: 5_000, run: (_ctx, n: number) => n })
        const [taskOne, taskTwo] = [define(exOne), define(exTwo)]
        for (let round = 0; round < 3; round++) {
          const key = `payment-${round}`
          const handles = await Promise.all(
            Array.from({ length: 10 }, (_, i) =>
              i % 2 === 0
                ? exOne.enqueueTask(taskOne, i, { idempotencyKey: key })
                : exTwo.enqueueTask(taskTwo, i, { idempotencyKey: key }))
          )
          expect(new Set(handles.map((h) => h.getExecutionId())).size).toBe(1)
          await handles[1]!.waitAndGetExecution({ pollingIntervalMs: 20 })
        }
        const rows = await rowsOf(one)
        expect(rows.map((r) => r.idempotencyKey).sort()).toEqual(["payment-0", "payment-1", "payment-2"])
        expect(rows.every((r) => r.status === "completed")).toBe(true)
      }),
    TIMEOUT
  )
})

describe("README: Idempotency keys", () => {
  it("runs the example as written", () =>
    withPlace(places[0]![1], async (place, makeExecutor) => {
      const executor = await makeExecutor(place.open())
      const charge = executor.task({ id: "charge", timeoutMs: 10_000, run: (_ctx, cents: number) => cents })
      const a = await executor.enqueueTask(charge, 500, { idempotencyKey: "order-42" })
      const b = await executor.enqueueTask(charge, 999, { idempotencyKey: "order-42" }) // same execution
      expect(a.getExecutionId() === b.getExecutionId()).toBe(true)
      expect((await b.waitAndGetExecution()).output).toBe(500)
      const batch = await executor.enqueueTasks(charge, [100, 200], { idempotencyKey: (_cents, i) => `batch-7-${i}` })
      const again = await executor.enqueueTasks(charge, [1, 2], { idempotencyKey: (_cents, i) => `batch-7-${i}` })
      expect(again.map((h) => h.getExecutionId())).toEqual(batch.map((h) => h.getExecutionId()))
    }))
})
