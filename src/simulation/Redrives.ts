/**
 * The workload's retries and bulk cancels (issue 12): at random times, a retry of one execution
 * that finished without success, a retry of every such execution, or a cancel of one tree's
 * descendants by filter. The checker judges the rows they change ({@link ./Invariants}: a finished
 * row changes only under a retry, never a completed one, and re-opens with a fresh retry budget).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type { ClientService } from "../DurableExecutor.js"
import { isUnsuccessful } from "../TaskStatus.js"
import type { Coverage } from "./Coverage.js"
import type { Checker } from "./Invariants.js"
import type { RedriveStep } from "./Scenario.js"

/**
 * The effect of one step: refusals and storage errors are expected (the row changed since it was
 * picked, or a fault), and logged to the trace.
 *
 * @since 0.1.0
 * @category constructors
 */
export const redrive = (
  step: RedriveStep,
  deps: {
    readonly client: ClientService
    readonly checker: Checker
    readonly coverage: Coverage
    readonly log: (line: string) => void
  }
): Effect.Effect<void> =>
  Effect.suspend(() => {
    const { checker, client, coverage, log } = deps
    const logged = <A, E>(what: string, effect: Effect.Effect<A, E>) =>
      effect.pipe(
        Effect.tap((result) => Effect.sync(() => log(`${what} -> ${JSON.stringify(result)}`))),
        Effect.catchAll((error) => Effect.sync(() => log(`${what} refused: ${String(error)}`))),
        Effect.asVoid
      )
    if (step.kind === "all") {
      coverage.hit("workload:retry all")
      return logged("retryExecutions()", client.retryExecutions())
    }
    if (step.kind === "cancelTree") {
      const open = [...checker.unfinished].sort()
      if (open.length === 0) return Effect.void
      const row = checker.rows.get(open[step.pick % open.length]!)!
      const rootExecutionId = row.rootExecutionId ?? row.executionId
      coverage.hit("workload:cancel by filter")
      return logged(`cancelExecutions(${rootExecutionId})`, client.cancelExecutions({ rootExecutionId }))
    }
    const failed = [...checker.rows.values()].filter((r) => isUnsuccessful(r.status)).map((r) => r.executionId)
      .sort()
    if (failed.length === 0) return Effect.void
    const target = failed[step.pick % failed.length]!
    coverage.hit("workload:retry")
    return logged(`retry ${target}`, Effect.map(client.retryExecution(target), (e) => e.status))
  })
