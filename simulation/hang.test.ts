// A hang is a finding, not a crash: a storage transaction that never ends must end the run with a
// liveness violation (and the seed in the report), in bounded simulated time, not run out of memory.
import * as Effect from "effect/Effect"
import { describe, expect, it } from "vitest"
import * as MemoryStorage from "../src/MemoryStorage.js"
import { parked } from "../src/simulation/SimulatedTime.js"
import * as Simulation from "../src/simulation/Simulation.js"
import type * as StorageDriver from "../src/StorageDriver.js"
import * as Task from "../src/Task.js"
import { describeFailure, planFor } from "./sweep.js"
import { scenarioOf } from "./Workload.js"

/**
 * A backend whose `hangAt`-th transaction never ends, holding the backend's lock (every later transaction waits on
 * it).
 */
const hangingBackend = (hangAt: number): StorageDriver.Backend => {
  const inner = MemoryStorage.makeBackend()
  let transactions = 0
  return {
    ...inner,
    transaction: (f) => inner.transaction((tx) => (++transactions === hangAt ? Effect.zipRight(f(tx), parked) : f(tx)))
  }
}

describe("a step that never ends", () => {
  it("is reported as a liveness violation, with the seed, when a storage transaction hangs", () => {
    for (const hangAt of [1, 5, 40]) {
      const seed = 1
      const report = Simulation.run({
        ...scenarioOf(planFor(seed)),
        seed,
        backend: Effect.succeed(hangingBackend(hangAt))
      })
      expect(report.ok).toBe(false)
      expect(report.seed).toBe(seed)
      const text = report.violations.join("\n")
      expect(text).toMatch(/liveness: \S+'s storage \w+ \(from \d+\) has not returned after \d+ ms of simulated time/)
      // Bounded: the run stops soon after the watchdog's bound (slow calls + 60 s), not after hours of simulated time.
      expect(report.simulatedMs).toBeLessThan(planFor(seed).faultPhaseMs + 200_000)
      expect(describeFailure({ seed, report })).toContain(`seed ${seed} FAILED`)
    }
  }, 120_000)

  it("reports a run that never ends with the seed, when no storage call hangs", () => {
    // A task whose run never ends and ignores interruption: neither its timeout nor shutdown ends it.
    const stuck = Task.make({ id: "stuck", timeoutMs: 1_000, run: () => Effect.uninterruptible(parked) })
    const report = Simulation.run({
      seed: 7,
      tasks: [stuck],
      enqueues: [{ atMs: 0, task: stuck, input: 1 }],
      faults: "none",
      faultPhaseMs: 5_000
    })
    expect(report.ok).toBe(false)
    expect(report.seed).toBe(7)
    expect(report.violations.join("\n")).toMatch(
      /the runner of \S+ on ex\d went on after ex\d's expire \(timed_out\) took its lease/
    )
    expect(report.violations.join("\n")).toContain("the processes could not be stopped")
  }, 120_000)
})
