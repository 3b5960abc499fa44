/**
 * The types of the facade's operations on stored executions (README "Operating"): `listExecutions`,
 * `countExecutions`, `getExecutionTree`, `purgeExecutions` on `DurableExecutor`. They run the Effect
 * API's {@link ExecutionQueries} on the executor's storage; executions have the shape handles return,
 * values decoded; a bad argument rejects with `DurableQueryError` naming it.
 *
 * @since 0.1.0
 */
import type * as ExecutionQueries from "../ExecutionQueries.js"
import type { TaskExecution } from "../TaskExecution.js"

/** Filter and page of `listExecutions`. @since 0.1.0 @category models */
export type DurableListExecutionsOptions = ExecutionQueries.ListExecutionsOptions

/** One page of executions, newest first; `nextCursor` null on the last. @since 0.1.0 @category models */
export interface DurableExecutionPage {
  readonly executions: ReadonlyArray<TaskExecution>
  readonly nextCursor: string | null
}

/** An execution with its children (in order) and its finalize task, each a subtree. @since 0.1.0 @category models */
export type DurableExecutionTree = ExecutionQueries.TaskExecutionTree

/** Options of `purgeExecutions`. @since 0.1.0 @category models */
export type DurablePurgeExecutionsOptions = ExecutionQueries.PurgeExecutionsOptions
