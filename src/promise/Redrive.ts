/**
 * The Promise facade's operations on stored executions (README "Operating"): `listExecutions`,
 * `countExecutions`, `getExecutionTree`, `purgeExecutions`, and retry and redrive (`retryExecution`,
 * `retryExecutions`, `cancelExecutions`), methods every `DurableExecutor` inherits from {@link DurableRedrive}.
 * They run the Effect API's operations (`ExecutionQueries.ts`, `ExecutionRedrive.ts`).
 *
 * @since 0.1.0
 */
import type { ExecutionFilter } from "../ExecutionQueries.js"
import type { CancelCounts, RetryCounts } from "../ExecutionRedrive.js"
import type { TaskExecution } from "../TaskExecution.js"
import { DurableExecutorShutdownError } from "./errors.js"
import type * as Operations from "./Operations.js"
import { DurableSleeping } from "./SleepingTasks.js"

/** The filter of `retryExecutions` and `cancelExecutions`: `listExecutions`' without a page. @since 0.1.0 */
export type DurableExecutionFilter = ExecutionFilter

/** What `retryExecutions` did. @since 0.1.0 @category models */
export type DurableRetryCounts = RetryCounts

/** What `cancelExecutions` did. @since 0.1.0 @category models */
export type DurableCancelCounts = CancelCounts

/**
 * The listing, purge, retry and redrive methods of `DurableExecutor`.
 *
 * @since 0.1.0
 * @category models
 */
export abstract class DurableRedrive extends DurableSleeping {
  private redrive() {
    const ops = this.scheduling()
    if (ops.shuttingDown) throw new DurableExecutorShutdownError()
    return ops
  }

  /** Executions matching a filter, newest first, a page at a time (README "Operating"). */
  listExecutions(options?: Operations.DurableListExecutionsOptions): Promise<Operations.DurableExecutionPage> {
    return this.redrive().call((c) => c.listExecutions(options))
  }

  /** How many executions there are per status or per task id. */
  countExecutions(options: { readonly by: "status" | "taskId" }): Promise<Readonly<Record<string, number>>> {
    return this.redrive().call((c) => c.countExecutions(options))
  }

  /** The tree of a root execution (or the subtree of any execution), with every status. */
  getExecutionTree(executionId: string): Promise<Operations.DurableExecutionTree> {
    return this.redrive().call((c) => c.getExecutionTree(executionId))
  }

  /** Deletes whole finished trees whose root finished before `finishedBefore`; resolves to the executions deleted. */
  purgeExecutions(options: Operations.DurablePurgeExecutionsOptions): Promise<number> {
    return this.redrive().call((c) => c.purgeExecutions(options))
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
