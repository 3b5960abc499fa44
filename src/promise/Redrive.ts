/**
 * The Promise facade's retry and redrive (README "Operating"): `retryExecution`, `retryExecutions`
 * and `cancelExecutions`, methods every `DurableExecutor` inherits from {@link DurableRedrive}.
 * They run the Effect API's operations (`ExecutionQueries.ts`, `ExecutionRedrive.ts`).
 *
 * @since 0.1.0
 */
import type { ExecutionFilter } from "../ExecutionQueries.js"
import type { CancelCounts, RetryCounts } from "../ExecutionRedrive.js"
import type { TaskExecution } from "../TaskExecution.js"
import { DurableExecutorShutdownError } from "./errors.js"
import { DurableScheduling } from "./Schedules.js"

/** The filter of `retryExecutions` and `cancelExecutions`: `listExecutions`' without a page. @since 0.1.0 */
export type DurableExecutionFilter = ExecutionFilter

/** What `retryExecutions` did. @since 0.1.0 @category models */
export type DurableRetryCounts = RetryCounts

/** What `cancelExecutions` did. @since 0.1.0 @category models */
export type DurableCancelCounts = CancelCounts

/**
 * The retry and redrive methods of `DurableExecutor`.
 *
 * @since 0.1.0
 * @category models
 */
export abstract class DurableRedrive extends DurableScheduling {
  private redrive() {
    const ops = this.scheduling()
    if (ops.shuttingDown) throw new DurableExecutorShutdownError()
    return ops
  }

  /**
   * Runs an execution that finished without success (`failed`, `timed_out`, `cancelled`,
   * `children_tasks_failed`, `finalize_task_failed`) again, under the same execution id, with a fresh
   * retry budget: completed children keep their outputs, unsuccessful descendants run again, its
   * ancestors re-open. Resolves with it re-opened; waiters see its new outcome. Rejects with
   * `DurableExecutionNotRetryableError` when it completed or has not finished.
   */
  async retryExecution(executionId: string): Promise<TaskExecution> {
    return this.redrive().call((client) => client.retryExecution(executionId))
  }

  /** Retries every execution the filter matches (default: every one finished without success). */
  async retryExecutions(filter?: DurableExecutionFilter): Promise<DurableRetryCounts> {
    return this.redrive().call((client) => client.retryExecutions(filter))
  }

  /** Cancels every execution the filter matches (default: every unfinished one), with its subtree. */
  async cancelExecutions(filter?: DurableExecutionFilter): Promise<DurableCancelCounts> {
    return this.redrive().call((client) => client.cancelExecutions(filter))
  }
}
