/**
 * The engine's own random workload: task trees (plain tasks, parents with 0–8 children, finalize
 * tasks — some of them parents —, sequential chains, depth up to 4) with random retry options,
 * timeouts, run durations and outcomes, user cancels at random times, and a random fault plan;
 * and two cron schedules (every 5 s with catchUp "all", every 7 s with "latest") on a trivial task.
 * A plan is a fast-check value, so a failing one shrinks.
 */
import * as Effect from "effect/Effect"
import * as PlainTime from "../src/simulation/PlainTime.js"
import type {
  CancelStep,
  EnqueueStep,
  Outcome,
  Scenario,
  ScheduleStep,
  WaitStep
} from "../src/simulation/Simulation.js"
import * as Task from "../src/Task.js"
import type { ChildOutput, FinalizeInput } from "../src/Task.js"
import type { RunInfo, RunResult, TaskDefinition } from "../src/TaskDefinition.js"
import { sleepSteps } from "./SleepWorkload.js"
import type { NodePlan, WorkloadPlan } from "./WorkloadPlan.js"

export * from "./WorkloadPlan.js"

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

/** The idempotency key of root `index` (every third root, by its time), or undefined. */
const keyOf = (atMs: number, index: number): string | undefined => (atMs % 3 === 0 ? `root-${index}` : undefined)
/** Every fourth root without a key waits before its first run (a durable delay a crash must not shorten). */
const delayOf = (atMs: number, index: number): number | undefined =>
  keyOf(atMs, index) === undefined && index % 4 === 1 ? 500 + (atMs % 4_000) : undefined

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
    // Every third root has an idempotency key (its enqueue loses replies and is retried: KeyedEnqueue.ts).
    const key = keyOf(root.atMs, index)
    const delayMs = delayOf(root.atMs, index)
    const options = key !== undefined ? { idempotencyKey: key } : delayMs !== undefined ? { delayMs } : undefined
    return { atMs: root.atMs, task: built.task, input: { root: index }, ...(options === undefined ? {} : { options }) }
  })
  // And is enqueued again later with the same key (a client retrying): the same execution.
  const keyed = enqueues.flatMap((step, index) => (step.options?.idempotencyKey === undefined ? [] : [{ step, index }]))
  for (const { index, step } of keyed) {
    expected.set(enqueues.length, expected.get(index))
    enqueues.push({ ...step, atMs: step.atMs + 1 + (index % 5) * 2_000 })
  }
  // Sleeping executions and their wakeups, enqueued after every other root (their indexes stay).
  const sleeps = sleepSteps(plan.sleeps)
  const firstSleep = enqueues.length
  enqueues.push(...sleeps.enqueues)
  tasks.push(...sleeps.tasks)
  const cancels: Array<CancelStep> = plan.cancels.map((c) => ({ atMs: c.atMs, target: { pick: c.pick } }))
  const waits: Array<WaitStep> = plan.waits.map((w) => ({
    atMs: w.atMs,
    target: w.root ? { enqueued: w.pick % plan.roots.length } : { pick: w.pick },
    pollIntervalMs: w.pollIntervalMs
  }))

  const properties = (outcome: Outcome): ReadonlyArray<string> => {
    const problems: Array<string> = []
    // Every enqueue with one key got the one execution holding it.
    const byKey = new Map<string, string>()
    for (const root of outcome.roots) {
      const key = enqueues[root.index]?.options?.idempotencyKey
      if (key === undefined || root.executionId === undefined) continue
      const first = byKey.get(key)
      if (first === undefined) byKey.set(key, root.executionId)
      else if (first !== root.executionId) {
        problems.push(`enqueue #${root.index} with key ${key} got ${root.executionId}, an earlier one got ${first}`)
      }
    }
    // A delayed root's first run starts no earlier than its creation plus its delay, crashes or not
    // (unless a retry, which runs at once, re-opened it: the check holds in plans without redrives).
    for (const root of (plan.redrives?.length ?? 0) > 0 ? [] : outcome.roots) {
      const delayMs = enqueues[root.index]?.options?.delayMs
      const first = root.row?.attempts?.recent[0]
      if (delayMs === undefined || first === undefined || first.attempt !== 1) continue
      if (first.startedAt < root.row!.createdAt + delayMs) {
        problems.push(
          `root #${root.index} (${root.executionId}) first ran at ${first.startedAt}, before its creation ` +
            `${root.row!.createdAt} plus its delay ${delayMs}`
        )
      }
    }
    for (const root of outcome.roots) {
      if (root.row?.status !== "completed") continue
      const got = JSON.stringify(stripIds(root.row.output === null ? undefined : JSON.parse(root.row.output)))
      const may = sleeps.allowed[root.index - firstSleep]
      if (may !== undefined) {
        if (!may.has(got)) {
          problems.push(`root #${root.index} (${root.executionId}) completed with ${got}, not a wakeup's`)
        }
        continue
      }
      const want = JSON.stringify(expected.get(root.index))
      if (got !== want) {
        problems.push(`root #${root.index} (${root.executionId}) completed with ${got}, expected ${want}`)
      }
    }
    for (const row of outcome.rows) {
      if (row.status === "completed" && row.sleepId === null && (outcome.runStarts.get(row.executionId) ?? 0) === 0) {
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

  const cronTick = Task.make({ id: "cron_tick", timeoutMs: 5_000, run: (_: null) => Effect.void })
  tasks.push(cronTick)
  const schedules: Array<ScheduleStep> = [
    { atMs: 0, id: "every5", cron: "*/5 * * * * *", catchUp: "all", task: cronTick, input: null },
    { atMs: 1_500, id: "every7", cron: "*/7 * * * * *", catchUp: "latest", task: cronTick, input: null }
  ]

  return {
    seed: plan.seed,
    tasks,
    enqueues,
    cancels,
    waits,
    redrives: plan.redrives ?? [],
    processes: plan.processes,
    faultPhaseMs: plan.faultPhaseMs,
    faults: plan.faults,
    properties,
    schedules,
    wakeups: sleeps.wakeups
  }
}
