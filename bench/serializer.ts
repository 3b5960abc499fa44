/**
 * Serializer benchmark: JSON (the old, lossy format), devalue and superjson, and the facade's default
 * as stored (plain JSON when that is exact, else devalue text in its marker object), on representative
 * values.
 *
 *   npx tsx bench/serializer.ts [--ms 1000]
 *
 * For each value and library it reports serialize, deserialize and round-trip operations per second
 * (the median of 3 timed runs after a warm-up; CPU time of this process, which is steadier than wall
 * time on a shared machine) and the serialized size in bytes (UTF-8).
 */
import * as devalue from "devalue"
import superjson from "superjson"
import * as Serializer from "../src/promise/Serializer.js"
import * as Serialization from "../src/Serialization.js"
import { formatNumber, renderTable } from "./stats.js"

const argMs = process.argv.indexOf("--ms")
const RUN_MS = argMs === -1 ? 1_000 : Number(process.argv[argMs + 1])

const base = Date.UTC(2026, 0, 1)

const values: ReadonlyArray<readonly [string, unknown]> = [
  ["small task input", {
    orderId: "ord_01HZX3",
    customer: { id: "cus_42", email: "ada@example.com" },
    amountCents: 12_999,
    currency: "EUR",
    items: [{ sku: "A-1", qty: 2 }, { sku: "B-7", qty: 1 }],
    requestedAt: new Date(base)
  }],
  ["small plain JSON input", { orderId: "ord_01HZX3", amountCents: 12_999, items: [{ sku: "A-1", qty: 2 }] }],
  [
    "1,000 objects with dates",
    Array.from({ length: 1_000 }, (_, i) => ({
      id: i,
      name: `item ${i}`,
      active: i % 3 !== 0,
      score: i * 1.25,
      createdAt: new Date(base + i * 60_000),
      updatedAt: new Date(base + i * 120_000)
    }))
  ],
  [
    "Map-heavy (Map of 200 Sets and Maps)",
    new Map(Array.from({ length: 200 }, (_, i) => [
      `key-${i}`,
      {
        tags: new Set([`t${i}`, `t${i + 1}`, `t${i + 2}`]),
        seen: new Map([[i, new Date(base + i)], [i + 1, new Date(base)]]),
        n: BigInt(i)
      }
    ]))
  ]
]

const errorReducers = { Error: (v: unknown) => v instanceof Error && [v.name, v.message] }
const errorRevivers = { Error: ([name, message]: [string, string]) => Object.assign(new Error(message), { name }) }

const stored = Serializer.fromOption(undefined)
const asStored = (value: unknown): string => {
  const encoded = Serialization.encode(value, "input", 1e9, stored)
  if (encoded._tag === "Left") throw encoded.left
  return encoded.right ?? "null"
}

const libraries: ReadonlyArray<{
  readonly name: string
  readonly serialize: (value: unknown) => string
  readonly deserialize: (text: string) => unknown
}> = [
  { name: "JSON (lossy)", serialize: (v) => JSON.stringify(v), deserialize: (t) => JSON.parse(t) },
  {
    name: "devalue 6",
    serialize: (v) => devalue.stringify(v, errorReducers),
    deserialize: (t) => devalue.parse(t, errorRevivers)
  },
  { name: "superjson 2", serialize: (v) => superjson.stringify(v), deserialize: (t) => superjson.parse(t) },
  { name: "facade default, as stored", serialize: asStored, deserialize: (t) => Serialization.decode(t, stored) }
]

const cpuMs = (): number => {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1_000
}

/** Operations per CPU-second of `fn`: the median of 3 runs of about RUN_MS each, after a warm-up. */
const opsPerSecond = (fn: () => void): number => {
  const timed = (ms: number): number => {
    let ops = 0
    const start = cpuMs()
    let elapsed = 0
    while (elapsed < ms) {
      for (let i = 0; i < 10; i++) fn()
      ops += 10
      elapsed = cpuMs() - start
    }
    return (ops / elapsed) * 1_000
  }
  timed(RUN_MS / 2)
  const runs = [timed(RUN_MS), timed(RUN_MS), timed(RUN_MS)].sort((a, b) => a - b)
  return runs[1]!
}

let sink: unknown
const rows: Array<Array<string>> = []
for (const [valueName, value] of values) {
  for (const lib of libraries) {
    const text = lib.serialize(value)
    const bytes = Buffer.byteLength(text, "utf8")
    const serialize = opsPerSecond(() => void (sink = lib.serialize(value)))
    const deserialize = opsPerSecond(() => void (sink = lib.deserialize(text)))
    const roundTrip = opsPerSecond(() => void (sink = lib.deserialize(lib.serialize(value))))
    rows.push([
      valueName,
      lib.name,
      "",
      formatNumber(serialize),
      formatNumber(deserialize),
      formatNumber(roundTrip),
      formatNumber(bytes)
    ])
  }
}
void sink

const os = await import("node:os")
console.log(
  `Node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? "?"}), load ${
    os.loadavg()[0]?.toFixed(1)
  }`
)
console.log(renderTable(["value", "library", "", "serialize/s", "deserialize/s", "round trip/s", "bytes"], rows))
