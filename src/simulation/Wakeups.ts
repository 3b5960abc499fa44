/**
 * Wakeups of sleeping executions under simulation (README "Sleeping tasks"): a client wakes them up
 * at random times, some twice, some after their timeout, some never (the call is lost), through a
 * storage that loses the reply of a wakeup now and then (written, then the call fails), after which
 * the client wakes it up again. Checked: a sleeping execution is woken at most once and never after
 * it finished (every reply shows the one way it finished), and one not woken ends `timed_out` no
 * earlier than its `timeoutMs` after its creation (on the clocks that stamped it).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { StorageError } from "../EngineError.js"
import type { ExecutionRow } from "../ExecutionRow.js"
import type { SleepingClient } from "../Sleeping.js"
import type { TaskStorage } from "../TaskStorage.js"
import type { Coverage } from "./Coverage.js"
import type { FaultInjector } from "./Faults.js"
import type { Checker } from "./Invariants.js"
import { retried } from "./KeyedEnqueue.js"
import type { WakeupStep } from "./Scenario.js"

/** The coverage label of a lost wakeup reply. @since 0.1.0 @category models */
export const LOST_REPLY = "fault:wakeup reply lost (retried)"

/** How often a wakeup's reply is lost during the fault phase, at least. */
const MIN_LOSS_RATE = 0.25

/**
 * `storage` whose wakeups lose their reply (after the write) at the run's "storage error after the
 * write" rate, at least {@link MIN_LOSS_RATE}, while faults are on.
 *
 * @since 0.1.0
 * @category constructors
 */
export const losingReplies = (
  storage: TaskStorage["Type"],
  faults: FaultInjector,
  coverage: Coverage
): TaskStorage["Type"] => ({
  ...storage,
  apply: (commands) =>
    Effect.flatMap(storage.apply(commands), (result) => {
      const wakeup = commands.some((c) => c.event._tag === "Wakeup")
      const rate = Math.max(MIN_LOSS_RATE, faults.plan.rates.storageErrorAfterWrite)
      if (!wakeup || !faults.enabled || !faults.prng.chance(rate)) return Effect.succeed(result)
      coverage.hit(LOST_REPLY)
      return Effect.fail(new StorageError({ op: "apply", message: "injected fault: a wakeup's reply was lost" }))
    })
})

/** How a sleeping execution finished, as a reply shows it. */
const endOf = (e: { readonly status: string; readonly output?: unknown; readonly error?: unknown }): string =>
  JSON.stringify([e.status, e.status === "completed" ? e.output : (e.error as { message?: unknown })?.message])

/**
 * The timeline events of `steps`, through `client`: every reply must show the execution finished,
 * and the same way as every other reply for its sleep id.
 *
 * @since 0.1.0
 * @category constructors
 */
export const harness = (deps: {
  readonly steps: ReadonlyArray<WakeupStep>
  readonly client: Pick<SleepingClient, "wakeup">
  /** Told of violations; its `retries` count each execution's re-openings (each may be woken once more). */
  readonly checker: Pick<Checker, "violation" | "retries">
  readonly coverage: Coverage
  readonly log: (line: string) => void
}): ReadonlyArray<{ readonly atMs: number; readonly run: Effect.Effect<void> }> => {
  const firstEnd = new Map<string, string>()
  return deps.steps.map((step) => ({
    atMs: step.atMs,
    run: Effect.suspend(() => {
      const name = `${step.task.id}/${step.sleepId}`
      if (step.lost === true) {
        deps.coverage.hit("workload:wakeup lost")
        return Effect.void
      }
      deps.coverage.hit("workload:wakeup")
      return retried(deps.client.wakeup(step.task as any, step.sleepId, step.result as any)).pipe(
        Effect.tap((execution) =>
          Effect.sync(() => {
            const end = endOf(execution)
            deps.log(`wakeup ${name} ${endOf(step.result)} -> ${execution.executionId} ${end}`)
            if (execution.status === "running") {
              deps.checker.violation(`wakeup ${name}: the reply shows ${execution.executionId} still running`)
            }
            const key = `${name}#${deps.checker.retries.get(execution.executionId) ?? 0}`
            const first = firstEnd.get(key)
            if (first === undefined) firstEnd.set(key, end)
            else if (first !== end) {
              deps.checker.violation(`wakeup ${name}: a reply shows it finished as ${end}, an earlier one as ${first}`)
            }
            deps.coverage.hit(
              end === endOf(step.result) ? "workload:wakeup applied" : "workload:wakeup changed nothing"
            )
          })
        ),
        Effect.catchAll((error) =>
          Effect.sync(() => {
            if (error._tag === "ExecutionNotFound") deps.coverage.hit("workload:wakeup of an id not held yet")
            else deps.checker.violation(`wakeup ${name} failed: ${String(error)}`)
          })
        ),
        Effect.asVoid
      )
    })
  }))
}

/**
 * Calls `bad` when the update of sleeping `pre` to `row` breaks a sleeping invariant: woken (ended
 * `completed` or `failed`) only by a wakeup, timed out no earlier than `timeoutMs` after it went to sleep.
 *
 * @since 0.1.0
 * @category checks
 */
export const checkSleepEnd = (
  pre: ExecutionRow,
  row: ExecutionRow,
  byWakeup: boolean,
  bad: (what: string) => void
): void => {
  if (pre.sleepId === null || pre.status !== "running" || row.status === "running") return
  if (row.status === "timed_out") {
    // Each bound on one process's clock (processes' clocks jump): the deadline stored when it went to
    // sleep is that moment plus timeoutMs, and the process expiring it had reached that deadline.
    const slept = pre.startedAt ?? pre.createdAt
    if (pre.expiresAt === null || pre.expiresAt < slept + pre.timeoutMs) {
      bad(
        `a sleeping execution's deadline ${String(pre.expiresAt)} is before ${
          slept + pre.timeoutMs
        } (asleep + timeoutMs)`
      )
    }
    if (row.finishedAt === null || pre.expiresAt === null || row.finishedAt < pre.expiresAt) {
      bad(`a sleeping execution timed out at ${String(row.finishedAt)}, before its deadline ${String(pre.expiresAt)}`)
    }
  } else if ((row.status === "completed" || row.status === "failed") && !byWakeup) {
    bad(`a sleeping execution ended ${row.status} without a wakeup`)
  }
}
