/**
 * The sleeping part of the workload: per {@link SleepPlan}, a sleeping task (a root, or the child of a
 * parent beside a plain one) and the wakeups a client sends it (completing or failing it, some after
 * its timeout, some twice, some lost), with the outputs a completed root may have.
 */
import * as Effect from "effect/Effect"
import type { EnqueueStep, WakeupStep } from "../src/simulation/Scenario.js"
import * as Task from "../src/Task.js"
import type { SleepPlan } from "./WorkloadPlan.js"

/** What the sleeps add to a scenario. */
export interface SleepSteps {
  readonly tasks: ReadonlyArray<Task.Task<any, any>>
  readonly enqueues: ReadonlyArray<EnqueueStep>
  readonly wakeups: ReadonlyArray<WakeupStep>
  /** The JSON outputs a completed root of enqueue `i` (counted from the first sleep enqueue) may have. */
  readonly allowed: ReadonlyArray<ReadonlySet<string>>
}

/** The tasks, enqueues and wakeups of `sleeps`. */
export const sleepSteps = (sleeps: ReadonlyArray<SleepPlan>): SleepSteps => {
  const tasks: Array<Task.Task<any, any>> = []
  const enqueues: Array<EnqueueStep> = []
  const wakeups: Array<WakeupStep> = []
  const allowed: Array<Set<string>> = []
  sleeps.forEach((sleep, k) => {
    const id = `s${k}`
    const sleepId = `sleep-${k}`
    const sleeping = Task.sleeping<unknown>({ id, timeoutMs: sleep.timeoutMs })
    tasks.push(sleeping)
    const outputs = sleep.wakeups.flatMap((w, j) => (w.failed || w.lost ? [] : [`w${k}.${j}`]))
    sleep.wakeups.forEach((w, j) =>
      wakeups.push({
        atMs: sleep.atMs + w.afterMs,
        task: sleeping,
        sleepId,
        result: w.failed
          ? { status: "failed", error: new Error(`w${k}.${j} failed`) }
          : { status: "completed", output: `w${k}.${j}` },
        lost: w.lost
      })
    )
    if (!sleep.parent) {
      enqueues.push({ atMs: sleep.atMs, task: sleeping, input: sleepId })
      allowed.push(new Set(outputs.map((o) => JSON.stringify(o))))
      return
    }
    const sibling = Task.make({
      id: `${id}b`,
      timeoutMs: 2_000,
      run: (_: unknown) => Effect.as(Effect.sleep(100), `${id}b`)
    })
    const parent = Task.parent({
      id: `${id}p`,
      timeoutMs: 2_000,
      runParent: (_: unknown) =>
        Effect.succeed({ output: `${id}p`, children: [Task.child(sibling, null), Task.child(sleeping, sleepId)] })
    })
    tasks.push(sibling, parent)
    enqueues.push({ atMs: sleep.atMs, task: parent, input: null })
    allowed.push(
      new Set(outputs.map((o) =>
        JSON.stringify({
          output: `${id}p`,
          childrenOutputs: [{ taskId: `${id}b`, output: `${id}b` }, { taskId: id, output: o }]
        })
      ))
    )
  })
  return { tasks, enqueues, wakeups, allowed }
}
