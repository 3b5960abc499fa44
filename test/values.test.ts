/**
 * Facade values round-trip exactly, or are refused with DurableValueError naming the path, on every
 * storage; the size limit applies to the serialized form; rows written as plain JSON stay readable.
 */
import { describe, expect, it } from "vitest"
import { makeReady } from "../src/ExecutionRow.js"
import type { DurableExecutor } from "../src/index.js"
import { defaultSerializer, DurableValueError } from "../src/index.js"
import * as RetryOptions from "../src/RetryOptions.js"
import * as Serialization from "../src/Serialization.js"
import { storages, useStorage } from "./values/storages.js"

/** One value of every listed type (and the variants most likely to be lost). */
export const everyType = () => {
  const error = Object.assign(new RangeError("out of range", { cause: new Error("the cause") }), { code: "E_RANGE" })
  const backing = new Uint8Array([9, 8, 7, 6, 5])
  const shared = { id: "shared" }
  return {
    date: new Date(1_700_000_000_123),
    invalidDate: new Date(Number.NaN),
    map: new Map<unknown, unknown>([["a", 1], [2, new Date(5)], [{ key: "object" }, [new Set([1])]]]),
    set: new Set<unknown>([1, "two", 3n]),
    bigint: 12345678901234567890123n,
    negativeBigint: -1n,
    undefinedField: undefined,
    nested: { u: undefined, list: [undefined, 1] },
    // eslint-disable-next-line no-sparse-arrays -- a hole must round-trip as a hole
    sparse: [1, , 3],
    nan: Number.NaN,
    infinity: Infinity,
    negativeInfinity: -Infinity,
    negativeZero: -0,
    regexp: /a+(b)?\//gimsu,
    url: new URL("https://user@example.com:8080/p/a%20th?q=1&r=2#frag"),
    error,
    typeError: new TypeError("wrong type"),
    aggregate: new AggregateError([new Error("first"), "second"], "many"),
    bareError: new Error(),
    uint8: new Uint8Array([0, 1, 255]),
    int8: new Int8Array([-128, 127]),
    uint8Clamped: new Uint8ClampedArray([0, 255]),
    int16: new Int16Array([-32768, 1]),
    uint16: new Uint16Array([65535]),
    int32: new Int32Array([-(2 ** 31)]),
    uint32: new Uint32Array([2 ** 32 - 1]),
    float32: new Float32Array([1.5, -0]),
    float64: new Float64Array([Math.PI, Number.NaN, -0]),
    bigInt64: new BigInt64Array([-(2n ** 63n), 1n]),
    bigUint64: new BigUint64Array([2n ** 64n - 1n]),
    subarray: backing.subarray(1, 3),
    arrayBuffer: new Uint8Array([1, 2, 3]).buffer,
    dataView: new DataView(new Uint8Array([4, 5]).buffer),
    buffer: Buffer.from("héllo ☃"),
    emptyBuffer: Buffer.alloc(0),
    searchParams: new URLSearchParams("a=1&a=2&b=%20"),
    nullPrototype: Object.assign(Object.create(null) as object, { x: 1 }),
    repeated: [shared, shared],
    text: "quote \" backslash \\ ☃ 𝄞 \u0001 lone \ud800 <script> \u2028",
    string: "plain"
  }
}

/** Checks `actual` is `expected` exactly: values, types, prototypes, -0, error details, views. */
export const expectExactly = (actual: any, expected: ReturnType<typeof everyType>) => {
  expect(actual).toStrictEqual(expected)
  for (const key of Object.keys(expected) as Array<keyof typeof expected>) {
    const e: any = expected[key]
    const a: any = actual[key]
    if (typeof e === "object" && e !== null) expect(Object.getPrototypeOf(a), key).toBe(Object.getPrototypeOf(e))
  }
  expect("undefinedField" in actual).toBe(true)
  expect(Object.is(actual.negativeZero, -0)).toBe(true)
  expect(Object.is(actual.float32[1], -0)).toBe(true)
  expect(Number.isNaN(actual.invalidDate.getTime())).toBe(true)
  expect(1 in actual.sparse).toBe(false)
  expect(actual.regexp.source).toBe(expected.regexp.source)
  expect(actual.regexp.flags).toBe(expected.regexp.flags)
  expect(actual.url.href).toBe(expected.url.href)
  for (const key of ["error", "typeError", "aggregate", "bareError"] as const) {
    expect(actual[key].constructor).toBe(expected[key].constructor)
    expect(actual[key].name).toBe(expected[key].name)
    expect(actual[key].message).toBe(expected[key].message)
    expect(actual[key].stack).toBe(expected[key].stack)
    expect(Object.keys(actual[key])).toEqual(Object.keys(expected[key]))
    expect(Object.getOwnPropertyNames(actual[key]).sort()).toEqual(Object.getOwnPropertyNames(expected[key]).sort())
  }
  expect(actual.error.code).toBe("E_RANGE")
  expect(actual.error.cause).toStrictEqual(expected.error.cause)
  expect(actual.aggregate.errors).toStrictEqual(expected.aggregate.errors)
  expect([actual.subarray.byteOffset, actual.subarray.length]).toEqual([1, 2])
  expect(Buffer.isBuffer(actual.buffer)).toBe(true)
  expect(actual.buffer.toString()).toBe("héllo ☃")
  expect([...new Uint8Array(actual.arrayBuffer)]).toEqual([1, 2, 3])
  expect(actual.dataView.getUint8(1)).toBe(5)
  expect(actual.searchParams.getAll("a")).toEqual(["1", "2"])
  expect(actual.repeated[0]).toBe(actual.repeated[1])
  expect(actual.text).toBe(expected.text)
}

const defineTasks = (executor: DurableExecutor, seen: Array<unknown> = []) => {
  const echo = executor.task({ id: "echo", timeoutMs: 5_000, run: (_ctx, input: unknown) => (seen.push(input), input) })
  const child = executor.task({
    id: "child",
    timeoutMs: 5_000,
    run: (_ctx, n: number) => new Map([[n, { at: new Date(n), big: BigInt(n) }]])
  })
  const parent = executor.parentTask({
    id: "parent",
    timeoutMs: 5_000,
    runParent: (_ctx, input: { readonly at: Date }) => ({
      output: new Set([input.at]),
      childrenTasks: [1, 2].map((n) => ({ task: child, input: n }))
    })
  })
  const withFinalize = executor.parentTask({
    id: "withFinalize",
    timeoutMs: 5_000,
    runParent: (_ctx, _input: { readonly at: Date }) => ({ output: -0, childrenTasks: [{ task: child, input: 3 }] }),
    finalizeTask: { id: "finalize", timeoutMs: 5_000, run: (_ctx, input: unknown) => (seen.push(input), input) }
  })
  const sequence = executor.sequentialTasks(child, echo)
  return { echo, child, parent, withFinalize, sequence }
}

const caught = async (f: () => unknown): Promise<DurableValueError> => {
  try {
    await f()
  } catch (e) {
    return e as DurableValueError
  }
  throw new Error("expected an error, none was thrown")
}

describe.each(storages)("values on %s", (_name, makeStorage) => {
  const { done, executor, storage } = useStorage(makeStorage)

  it("every listed type round-trips exactly: the run's input, the output, and a later read", async () => {
    const seen: Array<unknown> = []
    const ex = await executor()
    const { echo } = defineTasks(ex, seen)
    const value = everyType()
    const execution = await done(ex, echo, value)
    expect(execution.status).toBe("completed")
    expectExactly(seen[0], value)
    expectExactly(execution.output, value)
    expectExactly(execution.runInput, value)
    // Read back from storage by an executor that never saw the value.
    const reader = await executor({}, false)
    const readerTasks = defineTasks(reader)
    expectExactly(
      (await (await reader.getTaskHandle(readerTasks.echo, execution.executionId)).getExecution()).output,
      value
    )
  })

  it("a top-level special value round-trips", async () => {
    const ex = await executor()
    const { echo } = defineTasks(ex)
    for (const value of [-0, Number.NaN, 10n, new Date(0), undefined, "text", null]) {
      const execution = await done(ex, echo, value)
      expect(Object.is(execution.output, value) || execution.output?.toString() === value?.toString()).toBe(true)
      expect(execution.output?.constructor).toBe(value?.constructor)
    }
  })

  it("children outputs, a parent's output, a finalize task's input and a sequence keep their types", async () => {
    const seen: Array<unknown> = []
    const ex = await executor()
    const { parent, sequence, withFinalize } = defineTasks(ex, seen)
    const at = new Date(1_000)
    const parentDone = await done(ex, parent, { at })
    expect(parentDone.output).toStrictEqual({
      output: new Set([at]),
      childrenOutputs: [1, 2].map((n) => ({
        taskId: "child",
        executionId: expect.any(String),
        output: new Map([[n, { at: new Date(n), big: BigInt(n) }]])
      }))
    })
    const finalized = await done(ex, withFinalize, { at })
    const finalizeInput = seen[0] as {
      input: unknown
      output: number
      childrenTasksOutputs: Array<{ output: unknown }>
    }
    expect(finalizeInput.input).toStrictEqual({ at })
    expect(Object.is(finalizeInput.output, -0)).toBe(true)
    expect(finalizeInput.childrenTasksOutputs[0]!.output).toStrictEqual(new Map([[3, { at: new Date(3), big: 3n }]]))
    expect(finalized.output).toStrictEqual(finalizeInput)
    expect((await done(ex, sequence, 7)).output).toStrictEqual(new Map([[7, { at: new Date(7), big: 7n }]]))
  })

  class Money {
    constructor(readonly cents: number) {}
  }
  class MyError extends Error {}
  const symbolKeyed = { [Symbol("k")]: 1 }
  it.each([
    ["a function", { items: [0, 1, 2, { callback: () => 1 }] }, "input.items[3].callback", "a function"],
    ["a class instance", { price: new Money(5) }, "input.price", "an instance of class Money"],
    ["a symbol", { tag: Symbol("t") }, "input.tag", "a symbol"],
    ["a WeakMap", { cache: new WeakMap() }, "input.cache", "a WeakMap"],
    ["a Promise", { later: Promise.resolve(1) }, "input.later", "a Promise"],
    ["symbol keys", { inner: symbolKeyed }, "input.inner", "an object with symbol keys"],
    ["an Error subclass", { failure: new MyError("x") }, "input.failure", "an instance of class MyError"],
    ["a function in a Map", { m: new Map([["k", () => 1]]) }, "input.m.get(\"k\")", "a function"],
    ["a root function", () => 1, "input", "a function"]
  ])(
    "an input with %s is refused at enqueue, naming its path, and nothing is stored",
    async (_what, input, path, reason) => {
      const ex = await executor()
      const { echo } = defineTasks(ex)
      const error = await caught(() => ex.enqueueTask(echo, input))
      expect(error).toBeInstanceOf(DurableValueError)
      expect(error.path).toBe(path)
      expect(error.message).toContain(`input of task 'echo' cannot be stored: ${path} is ${reason}`)
      const many = await caught(() => ex.enqueueTasks(echo, [1, input, 3]))
      expect(many).toBeInstanceOf(DurableValueError)
      expect(await storage().rows()).toEqual([])
    }
  )

  it("an output the serializer cannot represent fails the execution, not retried, naming its path", async () => {
    const ex = await executor()
    let runs = 0
    const bad = ex.task({
      id: "bad",
      timeoutMs: 5_000,
      retryOptions: { maxAttempts: 3 },
      run: () => (runs++, { items: [0, 1, 2, { callback: () => 1 }] })
    })
    const failed = await done(ex, bad, undefined)
    expect(failed.status).toBe("failed")
    expect(failed.error).toEqual({
      errorType: "generic",
      message: "output of task 'bad' cannot be stored: output.items[3].callback is a function",
      isRetryable: false
    })
    expect(runs).toBe(1)
    expect((await storage().rows()).map((row) => row.output)).toEqual([null])
  })

  it("a child input the serializer cannot represent fails its parent and inserts no child", async () => {
    const ex = await executor()
    const { echo } = defineTasks(ex)
    const parent = ex.parentTask({
      id: "badChild",
      timeoutMs: 5_000,
      runParent: () => ({ output: 1, childrenTasks: [{ task: echo, input: { at: Symbol("x") } }] })
    })
    const failed = await done(ex, parent, undefined)
    expect(failed.status).toBe("failed")
    expect(failed.error?.message).toBe("input of child 0 (task 'echo') cannot be stored: input.at is a symbol")
    expect(await storage().rows()).toHaveLength(1)
  })

  it("maxSerializedValueBytes applies to the serialized form", async () => {
    const ex = await executor({ maxSerializedValueBytes: 1_024 })
    const { echo } = defineTasks(ex)
    // As JSON this Map is `{}`: two bytes. Serialized, it is over the limit.
    const big = new Map([["k", "x".repeat(2_000)]])
    const bytes = Buffer.byteLength(defaultSerializer.serialize(big))
    const error = await caught(() => ex.enqueueTask(echo, big))
    expect(error).toBeInstanceOf(DurableValueError)
    expect(error.message).toBe(`input of task 'echo' is ${bytes} bytes serialized, over the limit of 1024 bytes`)
    expect(await storage().rows()).toEqual([])
    // Exactly at the limit is accepted (a plain string is stored as JSON: 2 bytes of quotes), one more byte is not.
    expect((await done(ex, echo, "x".repeat(1_022))).output).toBe("x".repeat(1_022))
    expect((await caught(() => ex.enqueueTask(echo, "x".repeat(1_023)))).message).toContain("1025 bytes serialized")
    const atLimit = new Set(["x".repeat(1_024 - Buffer.byteLength(defaultSerializer.serialize(new Set(["x"]))) + 1)])
    expect(Buffer.byteLength(defaultSerializer.serialize(atLimit))).toBe(1_024)
    expect((await done(ex, echo, atLimit)).output).toStrictEqual(atLimit)
    const bigOutput = ex.task({ id: "bigOutput", timeoutMs: 5_000, run: () => new Set(["y".repeat(1_100)]) })
    const failed = await done(ex, bigOutput, undefined)
    expect(failed.status).toBe("failed")
    expect(failed.error?.message).toMatch(
      /^output of task 'bigOutput' is \d+ bytes serialized, over the limit of 1024 bytes$/
    )
  })

  it("rows written as plain JSON (today's format) stay readable, even when they look like a new value", async () => {
    const ex = await executor({}, false)
    const { echo, withFinalize } = defineTasks(ex)
    const spec = { taskId: "echo", timeoutMs: 5_000, retry: RetryOptions.noRetries, sleepMsBeforeRun: 0 }
    const oldEncoding = (value: unknown) => {
      const encoded = Serialization.encode(value, "input", 1_048_576) // the encoding without a serializer: plain JSON
      if (encoded._tag === "Left") throw encoded.left
      return encoded.right
    }
    const oldValues: ReadonlyArray<unknown> = [
      { at: "2024-01-01T00:00:00.000Z", n: 1, list: [1, "two", null] },
      "{\"~durable-tasks:devalue\":\"[1]\"}", // a string holding a new value's text
      { json: { at: "2024-01-01T00:00:00.000Z" }, meta: { values: { at: ["Date"] } } }, // looks like superjson's output
      { "~durable-tasks:devalue": "[1]", other: true }, // a marker key among others
      [{ "~durable-tasks:devalue": 1 }], // a marker key whose value is not text
      42,
      null
    ]
    // A finished row with an old output, and a ready row with an old input that the executor then runs.
    const finished = oldValues.map((value, i) => ({
      ...makeReady({ spec, executionId: `te_old_finished_${i}`, input: oldEncoding(value), nowMs: 1_000 }),
      status: "completed" as const,
      isClosed: true,
      output: oldEncoding(value),
      finishedAt: 2_000
    }))
    const ready = oldValues.map((value, i) =>
      makeReady({ spec, executionId: `te_old_ready_${i}`, input: oldEncoding(value), nowMs: 1_000 })
    )
    await storage().insert([...finished, ...ready])
    await ex.start()
    // A parent whose input is old, whose children and finalize task write the new format.
    await storage().insert([makeReady({
      spec: { ...spec, taskId: "withFinalize" },
      executionId: "te_old_parent",
      input: oldEncoding({ at: "1970-01-01T00:00:01.000Z" }),
      nowMs: 1_000
    })])
    const parent = await (await ex.getTaskHandle(withFinalize, "te_old_parent")).waitAndGetExecution({
      pollingIntervalMs: 20
    })
    expect(parent.output).toStrictEqual({
      input: { at: "1970-01-01T00:00:01.000Z" },
      output: -0,
      childrenTasksOutputs: [{
        taskId: "child",
        executionId: expect.any(String),
        output: new Map([[3, { at: new Date(3), big: 3n }]])
      }]
    })
    for (let i = 0; i < oldValues.length; i++) {
      const old = await (await ex.getTaskHandle(echo, `te_old_finished_${i}`)).getExecution()
      expect(old.output).toStrictEqual(oldValues[i])
      expect(old.runInput).toStrictEqual(oldValues[i])
      const ran = await (await ex.getTaskHandle(echo, `te_old_ready_${i}`)).waitAndGetExecution({
        pollingIntervalMs: 20
      })
      expect(ran.status).toBe("completed")
      expect(ran.output).toStrictEqual(oldValues[i])
    }
  })

  it(
    "a value plain JSON restores exactly is stored as plain JSON; one with a marker key is not, and " +
      "round-trips",
    async () => {
      const ex = await executor()
      const { echo } = defineTasks(ex)
      const plain = { name: "a", n: 1.5, list: [true, null, "x"], nested: { deep: [] } }
      const markerLike = { "~durable-tasks:devalue": "[1]" }
      expect((await done(ex, echo, plain)).output).toStrictEqual(plain)
      expect((await done(ex, echo, markerLike)).output).toStrictEqual(markerLike)
      const inputs = (await storage().rows()).map((row) => row.input)
      expect(inputs).toContain(JSON.stringify(plain))
      expect(inputs).not.toContain(JSON.stringify(markerLike))
    }
  )

  it("a serializer option is used for new values and still reads values the default wrote", async () => {
    const writer = await executor()
    const old = await done(writer, defineTasks(writer).echo, { at: new Date(5) })
    await writer.shutdown() // executors sharing a storage must share a serializer: this one reads no custom values
    const calls: Array<string> = []
    const tagged = {
      serialize: (value: unknown) => (calls.push("serialize"), JSON.stringify({ tagged: value })),
      deserialize: (text: string) => (calls.push("deserialize"), JSON.parse(text).tagged)
    }
    const ex = await executor({ serializer: tagged })
    const { echo } = defineTasks(ex)
    expect((await (await ex.getTaskHandle(echo, old.executionId)).getExecution()).output).toStrictEqual({
      at: new Date(5)
    })
    expect((await done(ex, echo, { n: 1 })).output).toEqual({ n: 1 })
    expect(calls).toContain("serialize")
    expect(calls).toContain("deserialize")
    expect(
      (await storage().rows()).some((row) =>
        row.input === "{\"~durable-tasks:custom\":\"{\\\"tagged\\\":{\\\"n\\\":1}}\"}"
      )
    ).toBe(true)
    // An executor without that serializer fails the run it cannot read (not retried), and shows the stored value.
    await ex.shutdown()
    const client = await executor({ serializer: tagged }, false)
    const queued = await client.enqueueTask(defineTasks(client).echo, { n: 2 })
    const plain = await executor()
    const plainEcho = defineTasks(plain).echo
    const failed = await (await plain.getTaskHandle(plainEcho, queued.getExecutionId())).waitAndGetExecution()
    expect(failed.status).toBe("failed")
    expect(failed.error?.isRetryable).toBe(false)
    expect(failed.error?.message).toContain("written by another serializer ('~durable-tasks:custom')")
    expect(failed.runInput).toEqual({ "~durable-tasks:custom": "{\"tagged\":{\"n\":2}}" })
  })
})
