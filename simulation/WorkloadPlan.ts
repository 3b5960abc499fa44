/**
 * The workload's plan: a fast-check value describing task trees (plain tasks, parents with 0–8
 * children, finalize tasks, sequential chains, depth up to 4), their retry options, timeouts, run
 * durations and outcomes, user cancels, waits and a random fault plan, so that a failing plan shrinks.
 * {@link ./Workload} turns a plan into a scenario.
 */
import * as fc from "effect/FastCheck"
import type { Faults } from "../src/simulation/index.js"
import type { RedriveStep } from "../src/simulation/Scenario.js"
import type { ProcessSettings } from "../src/simulation/Simulation.js"

/** What one attempt of a run does. */
export type AttemptOutcome = "succeed" | "retryable" | "fatal" | "hang"

export interface AttemptPlan {
  readonly outcome: AttemptOutcome
  /** Run duration as a percentage of the timeout (a hang sleeps past the timeout instead). */
  readonly durationPct: number
}

export interface NodePlan {
  readonly kind: "task" | "parent"
  /** Run through the engine's plain runner (a `runPlain` function, as the Promise facade's tasks have). */
  readonly plain: boolean
  readonly timeoutMs: number
  readonly retry: {
    readonly maxAttempts: number
    readonly baseDelayMs: number
    readonly delayMultiplier: number
    readonly maxDelayMs: number
  }
  /** Attempt n follows `attempts[min(n, length - 1)]`. */
  readonly attempts: ReadonlyArray<AttemptPlan>
  readonly children: ReadonlyArray<NodePlan>
  readonly finalize: NodePlan | null
}

/** A sleeping execution (a root, or the child of a parent beside one task) and the wakeups sent to it. */
export interface SleepPlan {
  readonly atMs: number
  readonly timeoutMs: number
  readonly parent: boolean
  /** Each at `afterMs` past `atMs` (some after the timeout): completes or fails it, or is lost. */
  readonly wakeups: ReadonlyArray<{ readonly afterMs: number; readonly failed: boolean; readonly lost: boolean }>
}

export interface WorkloadPlan {
  /** Seeds the run's fault decisions and cancel targets. */
  readonly seed: number
  readonly roots: ReadonlyArray<{ readonly atMs: number; readonly node: NodePlan }>
  readonly cancels: ReadonlyArray<{ readonly atMs: number; readonly pick: number }>
  /** Retries and bulk cancels (issue 12); generated last, so the other fields of a seed stay as they were. */
  readonly redrives?: ReadonlyArray<RedriveStep>
  /** Clients waiting on a root (`root`) or on any unfinished execution, through the engine's wait path. */
  readonly waits: ReadonlyArray<
    { readonly atMs: number; readonly pick: number; readonly root: boolean; readonly pollIntervalMs: number }
  >
  readonly processes: ReadonlyArray<ProcessSettings>
  readonly faultPhaseMs: number
  readonly faults: Faults.FaultPlan
  /** Drawn last, so that the other fields of a seed's plan stay what they were before sleeps. */
  readonly sleeps: ReadonlyArray<SleepPlan>
}

/** Most nodes in one plan (larger trees are cut, deterministically). */
export const MAX_NODES = 48
const MAX_LEVEL = 4
const MAX_CHILDREN = [0, 8, 4, 3, 0]

const attemptArb: fc.Arbitrary<AttemptPlan> = fc.record({
  outcome: fc.oneof(
    { arbitrary: fc.constant<AttemptOutcome>("succeed"), weight: 12 },
    { arbitrary: fc.constant<AttemptOutcome>("retryable"), weight: 4 },
    { arbitrary: fc.constant<AttemptOutcome>("fatal"), weight: 1 },
    { arbitrary: fc.constant<AttemptOutcome>("hang"), weight: 2 }
  ),
  durationPct: fc.integer({ min: 0, max: 90 })
})

const common = {
  plain: fc.oneof({ arbitrary: fc.constant(false), weight: 2 }, { arbitrary: fc.constant(true), weight: 1 }),
  timeoutMs: fc.integer({ min: 100, max: 5_000 }),
  retry: fc.record({
    maxAttempts: fc.integer({ min: 0, max: 3 }),
    baseDelayMs: fc.integer({ min: 0, max: 2_000 }),
    delayMultiplier: fc.integer({ min: 1, max: 3 }),
    maxDelayMs: fc.integer({ min: 0, max: 5_000 })
  }),
  attempts: fc.array(attemptArb, { minLength: 1, maxLength: 4 })
}

const leafArb: fc.Arbitrary<NodePlan> = fc.record({
  kind: fc.constant("task" as const),
  ...common,
  children: fc.constant([]),
  finalize: fc.constant(null)
})

const memo = new Map<string, fc.Arbitrary<NodePlan>>()
const memoized = (key: string, make: () => fc.Arbitrary<NodePlan>): fc.Arbitrary<NodePlan> => {
  let arb = memo.get(key)
  if (arb === undefined) {
    arb = make()
    memo.set(key, arb)
  }
  return arb
}

/** A parent at `level` (1 = root): children one level down, maybe a finalize task (plain or parent). */
const parentArb = (level: number): fc.Arbitrary<NodePlan> =>
  memoized(`parent${level}`, () =>
    fc.record({
      kind: fc.constant("parent" as const),
      ...common,
      children: fc.array(nodeArb(level + 1), { maxLength: MAX_CHILDREN[level]! }),
      finalize: fc.option(finalizeArb(level + 1), { nil: null, freq: 2 })
    }))

const finalizeArb = (level: number): fc.Arbitrary<NodePlan> =>
  memoized(
    `finalize${level}`,
    () =>
      level >= MAX_LEVEL
        ? leafArb
        : fc.oneof({ arbitrary: leafArb, weight: 3 }, { arbitrary: parentArb(level), weight: 1 })
  )

/**
 * A sequential chain of `length` tasks, as the facade builds it: a parent with the first task as
 * its only child, whose finalize task is a parent with the next task as its child, and so on.
 */
const chainArb = (level: number, length: number): fc.Arbitrary<NodePlan> =>
  memoized(`chain${level}:${length}`, () =>
    fc.record({
      kind: fc.constant("parent" as const),
      ...common,
      children: fc.tuple(leafArb),
      finalize: length > 1 && level + 1 < MAX_LEVEL ? chainArb(level + 1, length - 1) : leafArb
    }))

const nodeArb = (level: number): fc.Arbitrary<NodePlan> =>
  memoized(`node${level}`, () => {
    if (level >= MAX_LEVEL) return leafArb
    const weights = [[0, 0, 0], [2, 5, 2], [6, 2, 1], [8, 1, 1]][level]!
    return fc.oneof(
      { arbitrary: leafArb, weight: weights[0]! },
      { arbitrary: parentArb(level), weight: weights[1]! },
      { arbitrary: fc.integer({ min: 2, max: 3 }).chain((n) => chainArb(level, n)), weight: weights[2]! }
    )
  })

const settingsArb: fc.Arbitrary<ProcessSettings> = fc.record({
  pollIntervalMs: fc.integer({ min: 200, max: 3_000 }),
  leaseLeewayMs: fc.integer({ min: 0, max: 3_000 }),
  maxConcurrentTaskExecutions: fc.integer({ min: 1, max: 12 }),
  finishBatchSize: fc.integer({ min: 1, max: 8 }),
  shutdownGracePeriodMs: fc.integer({ min: 0, max: 3_000 })
})

/** A rate: zero for some seeds, up to `maxPerMille`/1000 for others. */
const rateArb = (maxPerMille: number): fc.Arbitrary<number> =>
  fc.oneof({ arbitrary: fc.constant(0), weight: 1 }, { arbitrary: fc.integer({ min: 1, max: maxPerMille }), weight: 3 })
    .map((n) => n / 1000)

const faultEventArb = (phaseMs: number): fc.Arbitrary<Faults.FaultEvent> => {
  const atMs = fc.integer({ min: 0, max: phaseMs })
  const process = fc.integer({ min: 0, max: 7 })
  return fc.oneof(
    fc.record({ _tag: fc.constant("Kill" as const), atMs, process }),
    fc.record({ _tag: fc.constant("Start" as const), atMs }),
    fc.record({ _tag: fc.constant("Shutdown" as const), atMs, process }),
    fc.record({ _tag: fc.constant("Pause" as const), atMs, process, forMs: fc.integer({ min: 1_000, max: 20_000 }) }),
    fc.record({
      _tag: fc.constant("ClockJump" as const),
      atMs,
      process,
      byMs: fc.oneof(fc.integer({ min: 1_000, max: 30_000 }), fc.integer({ min: -30_000, max: -1_000 }))
    })
  )
}

const faultPlanArb = (phaseMs: number): fc.Arbitrary<Faults.FaultPlan> =>
  fc.record({
    rates: fc.record({
      storageErrorBeforeWrite: rateArb(50),
      storageErrorAfterWrite: rateArb(50),
      crashBeforeWrite: rateArb(4),
      crashAfterReply: rateArb(4),
      slowCall: rateArb(100),
      lostWakeup: rateArb(300),
      duplicatedWakeup: rateArb(300)
    }),
    slowCallMaxMs: fc.integer({ min: 10, max: 5_000 }),
    restartAfterCrashMaxMs: fc.integer({ min: 0, max: 10_000 }),
    events: fc.array(faultEventArb(phaseMs), { maxLength: 8 }).map((events) =>
      [...events].sort((a, b) => a.atMs - b.atMs)
    )
  })

const sleepArb = (phaseMs: number): fc.Arbitrary<SleepPlan> =>
  fc.integer({ min: 500, max: 8_000 }).chain((timeoutMs) =>
    fc.record({
      atMs: fc.integer({ min: 0, max: Math.floor(phaseMs / 2) }),
      timeoutMs: fc.constant(timeoutMs),
      parent: fc.boolean(),
      wakeups: fc.array(
        fc.record({
          afterMs: fc.integer({ min: 0, max: Math.floor(timeoutMs * 1.5) }),
          failed: fc.oneof({ arbitrary: fc.constant(false), weight: 3 }, { arbitrary: fc.constant(true), weight: 1 }),
          lost: fc.oneof({ arbitrary: fc.constant(false), weight: 4 }, { arbitrary: fc.constant(true), weight: 1 })
        }),
        { maxLength: 3 }
      )
    })
  )

/** The arbitrary of a whole plan. */
export const planArb: fc.Arbitrary<WorkloadPlan> = fc.integer({ min: 10_000, max: 60_000 }).chain((faultPhaseMs) =>
  fc.record({
    seed: fc.integer({ min: 0, max: 0x7fffffff }),
    roots: fc.array(fc.record({ atMs: fc.integer({ min: 0, max: Math.floor(faultPhaseMs / 2) }), node: nodeArb(1) }), {
      minLength: 1,
      maxLength: 5
    }),
    cancels: fc.oneof(
      fc.constant([]),
      fc.array(fc.record({ atMs: fc.integer({ min: 0, max: faultPhaseMs }), pick: fc.nat() }), {
        minLength: 1,
        maxLength: 3
      })
    ),
    waits: fc.array(
      fc.record({
        atMs: fc.integer({ min: 0, max: faultPhaseMs }),
        pick: fc.nat(),
        root: fc.boolean(),
        pollIntervalMs: fc.integer({ min: 200, max: 3_000 })
      }),
      { maxLength: 4 }
    ),
    processes: fc.array(settingsArb, { minLength: 1, maxLength: 3 }),
    faultPhaseMs: fc.constant(faultPhaseMs),
    faults: faultPlanArb(faultPhaseMs),
    redrives: fc.array(
      fc.record({
        atMs: fc.integer({ min: 0, max: faultPhaseMs }),
        kind: fc.constantFrom("one" as const, "one" as const, "all" as const, "cancelTree" as const),
        pick: fc.nat()
      }),
      { maxLength: 3 }
    ),
    sleeps: fc.array(sleepArb(faultPhaseMs), { maxLength: 3 })
  })
)

/** The plan of seed `seed` (the first value fast-check draws with that seed). */
export const planOf = (seed: number): WorkloadPlan => fc.sample(planArb, { seed, numRuns: 1 })[0]!

/** Cuts a plan down to {@link MAX_NODES} nodes, breadth first, so runs stay small. */
export const prune = (plan: WorkloadPlan): WorkloadPlan => {
  let budget = MAX_NODES
  const cut = (node: NodePlan): NodePlan => {
    const children = node.children.slice(0, Math.max(0, budget))
    budget -= children.length
    const finalize = node.finalize !== null && budget > 0 ? node.finalize : null
    if (finalize !== null) budget--
    return { ...node, children: children.map(cut), finalize: finalize === null ? null : cut(finalize) }
  }
  const roots = plan.roots.slice(0, budget).map((r) => {
    budget--
    return r
  })
  return { ...plan, roots: roots.map((r) => ({ ...r, node: cut(r.node) })) }
}

export const countNodes = (node: NodePlan): number =>
  1 + node.children.reduce((n, c) => n + countNodes(c), 0) + (node.finalize === null ? 0 : countNodes(node.finalize))
