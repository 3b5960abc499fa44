/**
 * `inputSchema` with a transforming schema: the run receives the schema's output (the type its
 * `input` promises), derived from the stored input (stored as given) on each run.
 */
import * as Schema from "effect/Schema"
import { describe, expect, it } from "vitest"
import { z } from "zod"
import { storages, useStorage } from "./values/storages.js"

class Money {
  constructor(readonly cents: number) {}
}

describe.each(storages)("inputSchema on %s", (_name, makeStorage) => {
  const { done, executor, storage } = useStorage(makeStorage)

  it(
    "the run receives the schema's output: Dates from zod coerce, effect Schema.Date, a zod transform to a " +
      "class",
    async () => {
      const ex = await executor()
      const seen: Array<unknown> = []
      const record = (_ctx: unknown, input: unknown) => (seen.push(input), input)
      const zodDate = ex.inputSchema(z.object({ d: z.coerce.date() })).task({
        id: "zodDate",
        timeoutMs: 5_000,
        run: (_ctx, input) => (seen.push(input), { isDate: input.d instanceof Date, year: input.d.getUTCFullYear() })
      })
      const effectDate = ex.inputSchema(Schema.Struct({ d: Schema.Date, n: Schema.NumberFromString }))
        .task({ id: "effectDate", timeoutMs: 5_000, run: record })
      const toMoney = ex.inputSchema(z.object({ cents: z.number() }).transform((v) => new Money(v.cents)))
        .task({ id: "toMoney", timeoutMs: 5_000, run: (_ctx, money) => (seen.push(money), money.cents) })

      const a = await done(ex, zodDate, { d: "2024-02-03T04:05:06.000Z" as unknown as Date })
      expect(a.output).toEqual({ isDate: true, year: 2024 })
      expect(seen.pop()).toStrictEqual({ d: new Date("2024-02-03T04:05:06.000Z") })
      expect(a.runInput).toStrictEqual({ d: new Date("2024-02-03T04:05:06.000Z") })

      const b = await done(ex, effectDate, { d: "2024-02-03T04:05:06.000Z", n: "42" })
      expect(seen.pop()).toStrictEqual({ d: new Date("2024-02-03T04:05:06.000Z"), n: 42 })
      expect(b.output).toStrictEqual({ d: new Date("2024-02-03T04:05:06.000Z"), n: 42 })

      const c = await done(ex, toMoney, { cents: 250 })
      expect(seen.pop()).toBeInstanceOf(Money)
      expect(c.output).toBe(250)

      // What is stored is the input as given (the strings), not the schema's output.
      const stored = (await storage().rows()).map((row) => row.input ?? "")
      expect(stored.some((text) => text.includes("2024-02-03T04:05:06.000Z") && !text.includes("Date"))).toBe(true)
      expect(stored).toContain(JSON.stringify({ d: "2024-02-03T04:05:06.000Z", n: "42" }))
    }
  )

  it("a child and a sequence member with a schema receive the schema's output", async () => {
    const ex = await executor()
    const seen: Array<unknown> = []
    const child = ex.inputSchema(z.object({ d: z.coerce.date() }))
      .task({ id: "child", timeoutMs: 5_000, run: (_ctx, input) => (seen.push(input.d), input.d.getTime()) })
    const parent = ex.parentTask({
      id: "parent",
      timeoutMs: 5_000,
      runParent: () => ({ output: 0, childrenTasks: [{ task: child, input: { d: 1_000 } }] })
    })
    const sequence = ex.sequentialTasks(child)
    expect((await done(ex, parent, undefined)).status).toBe("completed")
    expect((await done(ex, sequence, { d: "1970-01-01T00:00:02.000Z" as unknown as Date })).output).toBe(2_000)
    expect(seen).toStrictEqual([new Date(1_000), new Date(2_000)])
  })

  it(
    "a schema changed between enqueue and run applies to stored executions; one that rejects them fails the " +
      "run",
    async () => {
      const v1 = await executor({}, false)
      const taskV1 = v1.inputSchema(z.object({ n: z.string() })).task({
        id: "versioned",
        timeoutMs: 5_000,
        run: () => "v1"
      })
      const first = await v1.enqueueTask(taskV1, { n: "5" })
      const second = await v1.enqueueTask(taskV1, { n: "five" })
      await v1.shutdown()

      // v2 coerces n to a number and adds a field with a default: the run gets v2's output.
      const seen: Array<unknown> = []
      let runs = 0
      const v2 = await executor()
      const taskV2 = v2.inputSchema(z.object({ n: z.coerce.number().int(), unit: z.string().default("kg") })).task({
        id: "versioned",
        timeoutMs: 5_000,
        retryOptions: { maxAttempts: 3 },
        run: (_ctx, input) => (runs++, seen.push(input), input.n * 2)
      })
      const ok = await (await v2.getTaskHandle(taskV2, first.getExecutionId())).waitAndGetExecution({
        pollingIntervalMs: 20
      })
      expect(ok.output).toBe(10)
      expect(seen).toStrictEqual([{ n: 5, unit: "kg" }])
      // "five" no longer passes: the execution fails, not retried, and the run is never called.
      const rejected = await (await v2.getTaskHandle(taskV2, second.getExecutionId())).waitAndGetExecution({
        pollingIntervalMs: 20
      })
      expect(rejected.status).toBe("failed")
      expect(rejected.error?.isRetryable).toBe(false)
      expect(rejected.error?.message).toMatch(/^the stored input of task 'versioned' does not pass its schema: n: /)
      expect(rejected.retryAttempts).toBe(0)
      expect(runs).toBe(1)
    }
  )
})
