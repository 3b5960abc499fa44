/**
 * The engine's own random workload: task trees (plain tasks, parents with 0–8 children, finalize
 * tasks — some of them parents —, sequential chains, depth up to 4) with random retry options,
 * timeouts, run durations and outcomes, user cancels at random times, and a random fault plan.
 * A plan is a fast-check value, so a failing one shrinks.
 */
import * as Effect from "effect/Effect"
import * as fc from "effect/FastCheck"
import type { Faults } from "../src/simulation/index.js"
import * as PlainTime from "../src/simulation/PlainTime.js"
import type {
  CancelStep,
  EnqueueStep,
  Outcome,
  ProcessSettings,
  Scenario,
  WaitStep
} from "../src/simulation/Simulation.js"
import * as Task from "../src/Task.js"
import type { ChildOutput, FinalizeInput } from "../src/Task.js"
import type { RunInfo, RunResult, TaskDefinition } from "../src/TaskDefinition.js"

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

export interface WorkloadPlan {
  /** Seeds the run's fault decisions and cancel targets. */
  readonly seed: number
  readonly roots: ReadonlyArray<{ readonly atMs: number; readonly node: NodePlan }>
  readonly cancels: ReadonlyArray<{ readonly atMs: number; readonly pick: number }>
  /** Clients waiting on a root (`root`) or on any unfinished execution, through the engine's wait path. */
  readonly waits: ReadonlyArray<
    { readonly atMs: number; readonly pick: number; readonly root: boolean; readonly pollIntervalMs: number }
  >
  readonly processes: ReadonlyArray<ProcessSettings>
  readonly faultPhaseMs: number
  readonly faults: Faults.FaultPlan
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
    faults: faultPlanArb(faultPhaseMs)
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

interface Built {
  readonly task: Task.Task<any, any>
  readonly id: string
}

/** JSON value without the execution ids (which differ between runs). */
const stripIds = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(stripIds)
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value).filter(([k]) => k !== "executionId").map(([k, v]) => [k, stripIds(v)])
    )
  }
  return value
}

/**
 * The scenario of a plan: one task definition per node (ids `n0`, `n1`, … in depth-first order),
 * and two properties over the outcome: a completed root's output equals the one the plan implies
 * (what a fault-free run gives), and every completed execution ran its task function at least once.
 */
export const scenarioOf = (plan: WorkloadPlan): Scenario => {
  let next = 0
  const tasks: Array<Task.Task<any, any>> = []
  const expected = new Map<number, unknown>()

  const behave = (node: NodePlan, id: string, attempt: number): Effect.Effect<void, Task.TaskRunError> => {
    const a = node.attempts[Math.min(attempt, node.attempts.length - 1)]!
    const durationMs = Math.round((a.durationPct * node.timeoutMs) / 100)
    switch (a.outcome) {
      case "succeed":
        return Effect.sleep(durationMs)
      case "retryable":
        return Effect.zipRight(
          Effect.sleep(durationMs),
          Effect.fail(new Task.TaskRunError({ message: `${id} failed`, isRetryable: true }))
        )
      case "fatal":
        return Effect.zipRight(
          Effect.sleep(durationMs),
          Effect.fail(new Task.TaskRunError({ message: `${id} failed for good`, isRetryable: false }))
        )
      case "hang":
        return Effect.sleep(node.timeoutMs + 1_000 + durationMs)
    }
  }
  /** The same behaviour for a plain run, on simulated time. */
  const behavePlain = (node: NodePlan, id: string, attempt: number): PromiseLike<void> => {
    const a = node.attempts[Math.min(attempt, node.attempts.length - 1)]!
    const durationMs = Math.round((a.durationPct * node.timeoutMs) / 100)
    const failWith = (message: string, isRetryable: boolean) => () => {
      throw new Task.TaskRunError({ message, isRetryable })
    }
    switch (a.outcome) {
      case "succeed":
        return PlainTime.sleep(durationMs)
      case "retryable":
        return PlainTime.sleep(durationMs).then(failWith(`${id} failed`, true))
      case "fatal":
        return PlainTime.sleep(durationMs).then(failWith(`${id} failed for good`, false))
      case "hang":
        return PlainTime.sleep(node.timeoutMs + 1_000 + durationMs)
    }
  }
  /** `definition` run by the plain runner when `node` is plain: `result` gives the run's result. */
  const plainIf = (
    node: NodePlan,
    id: string,
    definition: TaskDefinition,
    result: (input: any) => RunResult
  ): TaskDefinition =>
    node.plain
      ? {
        ...definition,
        decodeInput: Effect.succeed,
        runPlain: (info: RunInfo, input: unknown) => behavePlain(node, id, info.attempt).then(() => result(input))
      }
      : definition
  const asTask = (definition: TaskDefinition): Task.Task<any, any> => ({ id: definition.id, definition })
  const finalizeOutput = (id: string, input: FinalizeInput<unknown, unknown>) => ({
    f: id,
    parent: input.output,
    children: input.childrenTasksOutputs.map((c: ChildOutput) => c.output)
  })
  const retryById = new Map<string, NodePlan["retry"]>()
  const options = (node: NodePlan, id: string) => {
    retryById.set(id, node.retry)
    return { id, timeoutMs: node.timeoutMs, retryOptions: node.retry }
  }

  /** Builds the task of `node`, and its expected final output given the run output it will get. */
  const build = (node: NodePlan): Built & { readonly expect: () => unknown } => {
    const id = `n${next++}`
    if (node.kind === "task") {
      const made = Task.make({
        ...options(node, id),
        run: (_: unknown, info) => Effect.as(behave(node, id, info.attempt), id)
      })
      const task = asTask(plainIf(node, id, made.definition, () => ({ output: id, children: [] })))
      tasks.push(task)
      return { task, id, expect: () => id }
    }
    const children = node.children.map(build)
    const finalize = node.finalize === null ? undefined : buildFinalize(node.finalize)
    const childOutputs = () => children.map((c) => c.expect())
    const made = Task.parent({
      ...options(node, id),
      runParent: (_: unknown, info) =>
        Effect.as(behave(node, id, info.attempt), {
          output: id,
          children: children.map((c, i) => Task.child(c.task, { i }))
        }),
      ...(finalize === undefined ? {} : { finalize: finalize.options })
    })
    const withFinalize = finalize === undefined
      ? made.definition
      : { ...made.definition, finalize: finalize.adapt(made.definition.finalize!) }
    const task = asTask(plainIf(node, id, withFinalize, () => ({
      output: id,
      children: children.map((c, i) => ({ task: c.task.definition, input: { i } }))
    })))
    tasks.push(task)
    return {
      task,
      id,
      expect: () =>
        finalize === undefined
          ? { output: id, childrenOutputs: children.map((c, i) => ({ taskId: c.id, output: childOutputs()[i] })) }
          : finalize.expect(id, childOutputs())
    }
  }

  /** A finalize task: its options for the parent, and its expected output given the parent's run output. */
  const buildFinalize = (
    node: NodePlan
  ): {
    readonly options: any
    readonly expect: (parentOutput: unknown, children: ReadonlyArray<unknown>) => unknown
    /** The finalize definition the parent task built, made plain where the plan says so. */
    readonly adapt: (definition: TaskDefinition) => TaskDefinition
  } => {
    const id = `n${next++}`
    if (node.kind === "task") {
      return {
        options: {
          ...options(node, id),
          run: (input: FinalizeInput<unknown, unknown>, info: { attempt: number }) =>
            Effect.as(behave(node, id, info.attempt), finalizeOutput(id, input))
        },
        expect: (parent, children) => ({ f: id, parent, children }),
        adapt: (definition) =>
          plainIf(node, id, definition, (input) => ({ output: finalizeOutput(id, input), children: [] }))
      }
    }
    const children = node.children.map(build)
    const finalize = node.finalize === null ? undefined : buildFinalize(node.finalize)
    return {
      options: {
        ...options(node, id),
        runParent: (input: FinalizeInput<unknown, unknown>, info: { attempt: number }) =>
          Effect.as(behave(node, id, info.attempt), {
            output: finalizeOutput(id, input),
            children: children.map((c, i) => Task.child(c.task, { i }))
          }),
        ...(finalize === undefined ? {} : { finalize: finalize.options })
      },
      adapt: (definition) => {
        const inner = finalize === undefined
          ? definition
          : { ...definition, finalize: finalize.adapt(definition.finalize!) }
        return plainIf(node, id, inner, (input) => ({
          output: finalizeOutput(id, input),
          children: children.map((c, i) => ({ task: c.task.definition, input: { i } }))
        }))
      },
      expect: (parent, grandchildren) => {
        const runOutput = { f: id, parent, children: grandchildren }
        const kids = children.map((c) => c.expect())
        return finalize === undefined
          ? { output: runOutput, childrenOutputs: children.map((c, i) => ({ taskId: c.id, output: kids[i] })) }
          : finalize.expect(runOutput, kids)
      }
    }
  }

  const enqueues: Array<EnqueueStep> = plan.roots.map((root, index) => {
    const built = build(root.node)
    expected.set(index, built.expect())
    return { atMs: root.atMs, task: built.task, input: { root: index } }
  })
  const cancels: Array<CancelStep> = plan.cancels.map((c) => ({ atMs: c.atMs, target: { pick: c.pick } }))
  const waits: Array<WaitStep> = plan.waits.map((w) => ({
    atMs: w.atMs,
    target: w.root ? { enqueued: w.pick % plan.roots.length } : { pick: w.pick },
    pollIntervalMs: w.pollIntervalMs
  }))

  const properties = (outcome: Outcome): ReadonlyArray<string> => {
    const problems: Array<string> = []
    for (const root of outcome.roots) {
      if (root.row?.status !== "completed") continue
      const got = JSON.stringify(stripIds(root.row.output === null ? undefined : JSON.parse(root.row.output)))
      const want = JSON.stringify(expected.get(root.index))
      if (got !== want) {
        problems.push(`root #${root.index} (${root.executionId}) completed with ${got}, expected ${want}`)
      }
    }
    for (const row of outcome.rows) {
      if (row.status === "completed" && (outcome.runStarts.get(row.executionId) ?? 0) === 0) {
        problems.push(`${row.executionId} (${row.taskId}) completed without its task function ever running`)
      }
      // The plan's retry options, exactly: stored as given, and every attempt used before a retryable failure is final.
      const want = retryById.get(row.taskId)
      if (want === undefined) continue
      const r = row.retry
      if (
        r.maxAttempts !== want.maxAttempts || r.baseDelayMs !== want.baseDelayMs ||
        r.delayMultiplier !== want.delayMultiplier || r.maxDelayMs !== want.maxDelayMs
      ) {
        problems.push(
          `${row.executionId} (${row.taskId}) stored retry options ${JSON.stringify(r)}, the plan gave ${
            JSON.stringify(want)
          }`
        )
      }
      if (
        (row.status === "failed" || row.status === "timed_out") && row.error?.isRetryable === true &&
        row.retryAttempts !== want.maxAttempts
      ) {
        problems.push(
          `${row.executionId} (${row.taskId}) ${row.status} after ${row.retryAttempts} retries, the plan ` +
            `allows ${want.maxAttempts}`
        )
      }
    }
    return problems
  }

  return {
    seed: plan.seed,
    tasks,
    enqueues,
    cancels,
    waits,
    processes: plan.processes,
    faultPhaseMs: plan.faultPhaseMs,
    faults: plan.faults,
    properties
  }
}
