/**
 * Calls a facade task's `run` / `runParent`: as a plain function for the executor's fiber-less runs
 * ({@link ../PlainRunner}), or as an Effect. The context's `cancelSignal` is made on first use: an
 * AbortController per run costs more than a trivial run. Interrupting the run (cancel, timeout,
 * lost lease, shutdown) aborts that signal.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type { RunInfo } from "../TaskDefinition.js"
import type { DurableTaskRunContext } from "./types.js"

/** @since 0.1.0 */
export const isPromiseLike = (value: unknown): value is PromiseLike<unknown> =>
  typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function"

/** The run context of `info`; `cancelSignal` is read on first use of `ctx.cancelSignal`. @since 0.1.0 */
export const contextOf = (info: RunInfo, cancelSignal: () => AbortSignal): DurableTaskRunContext => ({
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
})

/**
 * Runs `call` with the run context of `info` as an Effect; fails with whatever it throws or rejects
 * with. A plain return value completes at once (an Effect.async resumed synchronously costs several
 * microseconds).
 *
 * @since 0.1.0
 */
export const callUser = <A>(
  info: RunInfo,
  call: (ctx: DurableTaskRunContext) => A | PromiseLike<A>
): Effect.Effect<A, unknown> =>
  Effect.suspend(() => {
    let controller: AbortController | undefined
    let aborted = false
    const ctx = contextOf(info, () => {
      if (controller === undefined) {
        controller = new AbortController()
        if (aborted) controller.abort()
      }
      return controller.signal
    })
    let result: A | PromiseLike<A>
    try {
      result = call(ctx)
    } catch (e) {
      return Effect.fail(e)
    }
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
