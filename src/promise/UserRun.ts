/**
 * Calls a facade task's `run` / `runParent` as an Effect. Its context's `cancelSignal` is made on
 * first use: an AbortController per run costs more than a trivial run. Interrupting the effect
 * (cancel, timeout, lost lease, shutdown) aborts that signal. A function that returns a plain value
 * completes at once, without a round trip through a promise.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type { RunInfo } from "../TaskDefinition.js"
import type { DurableTaskRunContext } from "./types.js"

const isPromiseLike = (value: unknown): value is PromiseLike<unknown> =>
  typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function"

/** Runs `call` with the run context of `info`; fails with whatever it throws or rejects with. @since 0.1.0 */
export const callUser = <A>(info: RunInfo, call: (ctx: DurableTaskRunContext) => A | PromiseLike<A>): Effect.Effect<A, unknown> =>
  Effect.suspend(() => {
    let controller: AbortController | undefined
    let aborted = false
    const cancelSignal = (): AbortSignal => {
      if (controller === undefined) {
        controller = new AbortController()
        if (aborted) controller.abort()
      }
      return controller.signal
    }
    const ctx: DurableTaskRunContext = {
      taskId: info.taskId,
      executionId: info.executionId,
      attempt: info.attempt,
      prevError: info.prevError,
      get cancelSignal() {
        return cancelSignal()
      },
      shutdownSignal: info.shutdownSignal,
      rootTaskExecution: info.rootTaskExecution,
      parentTaskExecution: info.parentTaskExecution
    }
    let result: A | PromiseLike<A>
    try {
      result = call(ctx)
    } catch (e) {
      return Effect.fail(e)
    }
    // A plain value completes at once (Effect.async resumed synchronously costs several microseconds).
    if (!isPromiseLike(result)) return Effect.succeed(result)
    const promise = result
    return Effect.async<A, unknown>((resume) => {
      promise.then((value) => resume(Effect.succeed(value)), (e: unknown) => resume(Effect.fail(e)))
      return Effect.sync(() => {
        aborted = true
        controller?.abort()
      })
    })
  })
