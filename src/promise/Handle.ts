/**
 * A handle on one execution (`getExecution`, `waitAndGetExecution`, `cancel`), over the operations
 * its executor provides.
 *
 * @since 0.1.0
 */
import type { TaskExecution } from "../TaskExecution.js"
import * as Arguments from "./Arguments.js"
import type { DurableTaskExecution, DurableTaskHandle } from "./types.js"

/** What a handle needs from its executor; each rejects with the facade's errors. @since 0.1.0 @category models */
export interface HandleOperations {
  readonly get: (executionId: string) => Promise<TaskExecution>
  readonly wait: (executionId: string, options: Arguments.WaitOptions) => Promise<TaskExecution>
  readonly cancel: (executionId: string) => Promise<void>
}

/** @since 0.1.0 @category constructors */
export const make = <TOutput>(
  operations: HandleOperations,
  taskId: string,
  executionId: string
): DurableTaskHandle<TOutput> => ({
  getTaskId: () => taskId,
  getExecutionId: () => executionId,
  getExecution: () => operations.get(executionId) as Promise<DurableTaskExecution<TOutput>>,
  waitAndGetExecution: (options) => {
    const checked = Arguments.waitOptions(options)
    if (checked instanceof Error) return Promise.reject(checked)
    return operations.wait(executionId, checked) as Promise<DurableTaskExecution<TOutput>>
  },
  cancel: () => operations.cancel(executionId)
})
