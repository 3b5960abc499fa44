/**
 * Runs plain tasks (tasks with a `runPlain` function: the Promise facade's) without a fiber per run:
 * the run is called from a microtask, its promise is awaited with `then`, and interrupting it
 * (cancel, timeout, lost lease, shutdown) aborts its cancel signal and drops its result. A fiber per
 * run costs about 6 KB and a few microseconds, which is more than a trivial task itself.
 *
 * Measured (commit 87daba5, bench `flat` on memory, facade, enqueueTasks + waits): a runner fiber cost
 * ~6 KB, ~13 KB with its effects, per execution; without it, ~26 → ~15 KB allocated per execution.
 * The cancel signal's `AbortController` is made on first use of `ctx.cancelSignal`: it cost ~10 µs
 * per run; a plain return value completes at once (an `Effect.async` resumed synchronously cost ~10 µs).
 *
 * @since 0.1.0
 */
import type * as Clock from "effect/Clock"
import type * as Effect from "effect/Effect"
import type { ExecutionRow } from "../../ExecutionRow.js"
import type * as Planner from "../../Planner.js"
import * as Serialization from "../../Serialization.js"
import { isIdentityCodec, type RunResult, type TaskDefinition } from "../../TaskDefinition.js"
import type { RunningExecution } from "./ExecutorState.js"
import * as Runner from "./Runner.js"

/** True when the executor can run `definition` without a fiber. @since 0.1.0 @category utils */
export const canRunPlain = (definition: TaskDefinition | undefined): definition is TaskDefinition & {
  readonly runPlain: NonNullable<TaskDefinition["runPlain"]>
} => definition !== undefined && definition.runPlain !== undefined && isIdentityCodec(definition.decodeInput)

const isPromiseLike = (value: unknown): value is PromiseLike<unknown> =>
  typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function"

/** @since 0.1.0 @category models */
export interface PlainRunner {
  /**
   * Starts a run of `row` (claimed by this executor) for `entry`; `definition` must satisfy {@link canRunPlain}.
   * `within`, when given, calls the task's function (e.g. inside its run span's OpenTelemetry context).
   */
  readonly start: (
    entry: RunningExecution,
    row: ExecutionRow,
    definition: TaskDefinition,
    within?: (<X>(f: () => X) => X) | undefined
  ) => void
}

/** @since 0.1.0 @category constructors */
export const make = (args: {
  readonly deps: Runner.RunnerDeps
  /** The executor's Effect Clock (TestClock in tests). */
  readonly clock: Clock.Clock
  /** Called once the run ended, as soon as its outcome is known. */
  readonly onRunEnded: (entry: RunningExecution) => void
  /** Called with the outcome to record (an effect when building it needs one). */
  readonly onOutcome: (
    entry: RunningExecution,
    row: ExecutionRow,
    event: Planner.Event | Effect.Effect<Planner.Event>
  ) => void
  /** Called when the run was interrupted: nothing of it is recorded (but a timeout). */
  readonly onInterrupted: (entry: RunningExecution, row: ExecutionRow) => void
}): PlainRunner => {
  let queue: Array<() => void> = []
  let scheduled = false
  const drain = () => {
    scheduled = false
    const runs = queue
    queue = []
    for (const run of runs) run()
  }

  const start: PlainRunner["start"] = (entry, row, definition, within) => {
    let ended = false
    let interrupted = false
    let controller: AbortController | undefined
    const cancelSignal = (): AbortSignal => {
      if (controller === undefined) {
        controller = new AbortController()
        if (interrupted) controller.abort()
      }
      return controller.signal
    }
    entry.abortPlain = () => {
      if (ended) return
      ended = true
      interrupted = true
      controller?.abort()
      args.onInterrupted(entry, row)
    }
    const finish = (ok: boolean, value: unknown): void => {
      if (ended) return
      ended = true
      args.onRunEnded(entry)
      const nowMs = args.clock.unsafeCurrentTimeMillis()
      args.onOutcome(
        entry,
        row,
        ok
          ? Runner.resultEvent(args.deps, row, definition, value as RunResult, nowMs)
          : Runner.failureEvent(row, value, nowMs)
      )
    }
    queue.push(() => {
      if (ended) return
      let result: RunResult | PromiseLike<RunResult>
      try {
        const input = Serialization.decode(row.input, definition.serializer)
        const info = Runner.infoOf(row, args.deps.shutdownSignal)
        result = within === undefined
          ? definition.runPlain!(info, input, cancelSignal)
          : within(() => definition.runPlain!(info, input, cancelSignal))
      } catch (e) {
        return finish(false, e)
      }
      if (!isPromiseLike(result)) return finish(true, result)
      result.then((value) => finish(true, value), (e: unknown) => finish(false, e))
    })
    if (!scheduled) {
      scheduled = true
      queueMicrotask(drain)
    }
  }

  return { start }
}
