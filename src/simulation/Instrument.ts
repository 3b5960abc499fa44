/**
 * The task registry of a simulated process, instrumented: every run of a task function (an
 * Effect `run`, or a plain `runPlain` as the Promise facade's tasks have) reports its start and
 * end to the checker. A plain run ends when it settles, or when its cancel signal fires (the
 * engine then drops its result).
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type { RegistryService } from "../Registry.js"
import type { RunResult, TaskDefinition } from "../TaskDefinition.js"
import type { Checker } from "./Invariants.js"

/** What the instrument needs of its process. @since 0.1.0 @category models */
export interface InstrumentedProcess {
  readonly id: string
  readonly alive: boolean
}

const isPromiseLike = (value: unknown): value is PromiseLike<unknown> =>
  typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function"

/** A promise-like that never settles: a dead process's plain run. */
const never: PromiseLike<never> = { then: () => never }

const wrapPlain = (
  runPlain: NonNullable<TaskDefinition["runPlain"]>,
  process: InstrumentedProcess,
  checker: Checker
): NonNullable<TaskDefinition["runPlain"]> =>
(info, input, cancelSignal) => {
  if (!process.alive) return never
  checker.runs.coverage.hit("workload:plain run")
  const active = checker.runStarted(process.id, info)
  let ended = false
  const end = (how: "succeeded" | "failed" | "interrupted") => {
    if (ended) return
    ended = true
    checker.runEnded(active, how)
  }
  const signal = cancelSignal()
  if (signal.aborted) end("interrupted")
  else signal.addEventListener("abort", () => end("interrupted"), { once: true })
  let result: RunResult | PromiseLike<RunResult>
  try {
    result = runPlain(info, input, () => signal)
  } catch (e) {
    end("failed")
    throw e
  }
  if (!isPromiseLike(result)) {
    end("succeeded")
    return result
  }
  return result.then((value) => {
    end("succeeded")
    return value
  }, (e: unknown) => {
    end("failed")
    throw e
  })
}

/**
 * Wraps `inner` so that each run of its task functions on `process` is reported to `checker`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const instrument = (inner: RegistryService, process: InstrumentedProcess, checker: Checker): RegistryService => {
  const cache = new WeakMap<TaskDefinition, TaskDefinition>()
  const wrap = (definition: TaskDefinition): TaskDefinition => {
    const cached = cache.get(definition)
    if (cached !== undefined) return cached
    const wrapped: TaskDefinition = {
      ...definition,
      run: (info, input) =>
        Effect.suspend(() => {
          if (!process.alive) return Effect.interrupt
          const active = checker.runStarted(process.id, info)
          return Effect.onExit(definition.run(info, input), (exit) =>
            Effect.sync(() =>
              checker.runEnded(
                active,
                Exit.isSuccess(exit) ? "succeeded" : Cause.isInterruptedOnly(exit.cause) ? "interrupted" : "failed"
              )
            ))
        }),
      ...(definition.runPlain === undefined ? {} : { runPlain: wrapPlain(definition.runPlain, process, checker) })
    }
    cache.set(definition, wrapped)
    return wrapped
  }
  return {
    register: inner.register,
    get: (taskId) => {
      const definition = inner.get(taskId)
      return definition === undefined ? undefined : wrap(definition)
    },
    taskIds: inner.taskIds,
    flow: inner.flow
  }
}
