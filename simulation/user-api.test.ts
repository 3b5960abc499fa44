// The user-facing face of the simulator (durable-tasks/simulation): a user's own workflow, the
// engine's invariants, and the user's own properties over the outcome. the README's Simulation section shows it.
import * as Effect from "effect/Effect"
import { describe, expect, it } from "vitest"
import { Task } from "../src/effect.js"
import { Simulation } from "../src/simulation/index.js"

/** A checkout workflow: charge and ship in parallel, then a receipt. Side effects go to `ledger`. */
const makeShop = () => {
  const ledger = new Map<string, number>()
  const charge = Task.make({
    id: "charge",
    timeoutMs: 2_000,
    retryOptions: { maxAttempts: 3, baseDelayMs: 200 },
    run: (order: { readonly id: string }) =>
      Effect.gen(function*() {
        yield* Effect.sleep(300)
        ledger.set(order.id, (ledger.get(order.id) ?? 0) + 1)
        return `charged ${order.id}`
      })
  })
  const ship = Task.make({
    id: "ship",
    timeoutMs: 2_000,
    retryOptions: { maxAttempts: 3 },
    run: (order: { readonly id: string }) => Effect.as(Effect.sleep(500), `shipped ${order.id}`)
  })
  const checkout = Task.parent({
    id: "checkout",
    timeoutMs: 1_000,
    retryOptions: { maxAttempts: 2 },
    runParent: (order: { readonly id: string }) =>
      Effect.succeed({ output: order.id, children: [Task.child(charge, order), Task.child(ship, order)] }),
    finalize: {
      id: "checkout.receipt",
      timeoutMs: 1_000,
      run: ({ childrenTasksOutputs, output }) =>
        Effect.succeed({ order: output, steps: childrenTasksOutputs.map((c) => c.output) })
    }
  })
  return { ledger, tasks: [checkout, charge, ship], checkout }
}

/** Three orders, one a second, on a fresh shop. */
const orders = (seed: number, shop: ReturnType<typeof makeShop>): Simulation.Scenario => ({
  seed,
  tasks: shop.tasks,
  enqueues: [1, 2, 3].map((i) => ({ atMs: i * 1_000, task: shop.checkout, input: { id: `order-${i}` } }))
})

const scenarioOf = (seed: number): Simulation.Scenario => {
  const shop = makeShop()
  // What a run without faults gives: the reference for the first property.
  const reference = Simulation.run({ ...orders(seed, makeShop()), faults: "none" })
  return {
    ...orders(seed, shop),
    properties: (outcome) => {
      const problems: Array<string> = []
      for (const root of outcome.roots) {
        const expected = reference.outcome?.roots[root.index]?.execution?.output
        if (
          root.execution?.status === "completed" && JSON.stringify(root.execution.output) !== JSON.stringify(expected)
        ) {
          problems.push(
            `order ${root.index} completed with ${JSON.stringify(root.execution.output)}, not ${
              JSON.stringify(expected)
            }`
          )
        }
      }
      for (const row of outcome.rows) {
        const order = row.taskId === "charge" ? (JSON.parse(row.input ?? "{}") as { id: string }).id : undefined
        if (row.status === "completed" && order !== undefined && (shop.ledger.get(order) ?? 0) < 1) {
          problems.push(`charge of ${order} completed but the ledger has no entry`)
        }
      }
      return problems
    }
  }
}

describe("durable-tasks/simulation for users", () => {
  it("runs a user's workflow under faults: engine invariants and the user's properties hold", () => {
    const result = Simulation.runSeeds(40, scenarioOf)
    expect(result.failures.map((r) => [r.seed, ...r.violations])).toEqual([])
    expect(result.coverage.share("fault:crash after the reply") + result.coverage.share("fault:process killed"))
      .toBeGreaterThan(0)
    const fine = Simulation.run({ ...scenarioOf(3), faults: "none" })
    expect(fine.outcome?.roots.map((r) => r.execution?.status)).toEqual(["completed", "completed", "completed"])
    expect(fine.outcome?.roots[0]?.execution?.output).toEqual({
      order: "order-1",
      steps: ["charged order-1", "shipped order-1"]
    })
  }, 120_000)

  it("reports a broken user property with the seed", () => {
    const report = Simulation.run({ ...scenarioOf(5), faults: "none", properties: () => ["the ledger is unbalanced"] })
    expect(report.ok).toBe(false)
    expect(report.seed).toBe(5)
    expect(report.violations).toEqual(["property: the ledger is unbalanced"])
  })
})
