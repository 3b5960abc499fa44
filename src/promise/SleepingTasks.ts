/**
 * The Promise facade's sleeping tasks (README "Sleeping tasks"): `sleepingTask` and
 * `wakeupSleepingTaskExecution`, methods every `DurableExecutor` inherits from
 * {@link DurableSleeping}. They run the Effect API's wakeup (`Sleeping.ts`).
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as Looping from "../Looping.js"
import * as Sleeping from "../Sleeping.js"
import type { TaskExecution } from "../TaskExecution.js"
import { DurableExecutorShutdownError, DurableTaskDefinitionError } from "./errors.js"
import * as Schedules from "./Schedules.js"
import type { DurableTask } from "./types.js"

/** Options of `executor.sleepingTask(...)`. @since 0.1.0 @category models */
export interface DurableSleepingTaskOptions {
  /** The task's id. */
  readonly id: string
  /** How long an execution sleeps before it ends `timed_out` if no wakeup came. */
  readonly timeoutMs: number
}

/** How a wakeup ends a sleeping execution. @since 0.1.0 @category models */
export type DurableWakeupResult<TOutput> = Sleeping.WakeupResult<TOutput>

/** A looping task's output. @since 0.1.0 @category models */
export type DurableLoopingTaskOutput<TOutput> = { readonly isSuccess: true; readonly output: TOutput } | {
  readonly isSuccess: false
}

/**
 * The sleeping- and looping-task methods of `DurableExecutor`.
 *
 * @since 0.1.0
 * @category models
 */
export abstract class DurableSleeping extends Schedules.DurableScheduling {
  /**
   * Defines a sleeping task: its input is the id a wakeup names (a string); no executor runs it. Its
   * output is stored as plain JSON (strings, numbers, booleans, null, arrays and plain objects).
   */
  sleepingTask<TOutput = unknown>(options: DurableSleepingTaskOptions): DurableTask<string, TOutput> {
    const given = (options ?? {}) as Partial<DurableSleepingTaskOptions>
    const made = Sleeping.makeDefinition({ id: given.id, timeoutMs: given.timeoutMs })
    if (Either.isLeft(made)) throw new DurableTaskDefinitionError(made.left.message)
    const registered = this.scheduling().registry.register(made.right)
    if (Either.isLeft(registered)) throw new DurableTaskDefinitionError(registered.left.message)
    return { id: made.right.id, definition: made.right }
  }

  /**
   * Defines a looping task (README "Looping tasks"): it runs `iterationTask` with its input until
   * that returns `{ isDone: true, output }`, at most `maxAttempts` times, sleeping durably
   * `sleepMsBetweenIterations` between iterations; its output is `{ isSuccess: true, output }` or
   * `{ isSuccess: false }`. One execution whose children are the iterations, one after the other.
   */
  loopingTask<TInput, TOutput>(
    id: string,
    iterationTask: DurableTask<TInput, { readonly isDone: boolean; readonly output?: TOutput }>,
    maxAttempts: number,
    sleepMsBetweenIterations: number
  ): DurableTask<TInput, DurableLoopingTaskOutput<TOutput>> {
    const made = Looping.makeDefinition({
      id,
      iteration: iterationTask?.definition,
      maxAttempts,
      sleepMsBetweenIterations
    })
    if (Either.isLeft(made)) throw new DurableTaskDefinitionError(made.left.message)
    const registered = this.scheduling().registry.register(made.right)
    if (Either.isLeft(registered)) throw new DurableTaskDefinitionError(registered.left.message)
    return { id: made.right.id, definition: made.right }
  }

  /**
   * Ends the sleeping execution of `task` named `sleepId`: `{ status: "completed", output }` or
   * `{ status: "failed", error }`, with the usual consequences for its parent. Resolves to the
   * execution. Exactly once: when it had finished already (woken, timed out, cancelled), this
   * changes nothing and resolves to it as it finished. Rejects with DurableExecutionNotFoundError
   * when no execution of `task` holds `sleepId` (yet).
   */
  wakeupSleepingTaskExecution<TOutput>(
    task: DurableTask<string, TOutput>,
    sleepId: string,
    result: DurableWakeupResult<TOutput>
  ): Promise<TaskExecution<TOutput>> {
    const ops = this.scheduling()
    if (ops.shuttingDown) return Promise.reject(new DurableExecutorShutdownError())
    return ops.call((client) => client.wakeup(task, sleepId, result)) as Promise<TaskExecution<TOutput>>
  }
}
