/**
 * The binary heap behind the in-memory storage's ready queues and the executor's run timeouts:
 * it pops entries in (key, seq) order, whatever the sequence of pushes, pops and retains.
 */
import { describe, it } from "@effect/vitest"
import { assert } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { Heap } from "../src/internal/executor/Heap.js"

type Op = { readonly _tag: "push"; readonly key: number } | { readonly _tag: "pop" } | {
  readonly _tag: "retain"
  readonly mod: number
}

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 0, max: 20 }).map((key) => ({ _tag: "push" as const, key })) },
  { weight: 3, arbitrary: fc.constant({ _tag: "pop" as const }) },
  { weight: 1, arbitrary: fc.integer({ min: 2, max: 4 }).map((mod) => ({ _tag: "retain" as const, mod })) }
)

describe("Heap", () => {
  it.prop("pops in (key, seq) order, like a sorted list", [fc.array(op, { maxLength: 200 })], ([ops]) => {
    const heap = new Heap<number>()
    let model: Array<{ readonly key: number; readonly seq: number }> = []
    let seq = 0
    for (const o of ops) {
      if (o._tag === "push") {
        heap.push({ key: o.key, seq, value: seq })
        model.push({ key: o.key, seq })
        seq++
      } else if (o._tag === "pop") {
        model.sort((a, b) => a.key - b.key || a.seq - b.seq)
        const expected = model.shift()
        const got = heap.pop()
        assert.strictEqual(got?.value, expected?.seq)
      } else {
        heap.retain((e) => e.value % o.mod !== 0)
        model = model.filter((e) => e.seq % o.mod !== 0)
      }
      assert.strictEqual(heap.size, model.length)
      const top = [...model].sort((a, b) => a.key - b.key || a.seq - b.seq)[0]
      assert.strictEqual(heap.peek()?.value, top?.seq)
    }
    return true
  })
})
