/**
 * The statuses of a task execution, with the seed README's names.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 @category models */
export const TASK_STATUSES = [
  "ready",
  "running",
  "waiting_for_children_tasks",
  "waiting_for_finalize_task",
  "completed",
  "failed",
  "timed_out",
  "children_tasks_failed",
  "finalize_task_failed",
  "cancelled"
] as const

/** @since 0.1.0 @category models */
export type TaskStatus = (typeof TASK_STATUSES)[number]

/** Statuses that absorb: nothing leaves them. @since 0.1.0 @category models */
export const FINISHED_STATUSES: ReadonlySet<TaskStatus> = new Set<TaskStatus>([
  "completed",
  "failed",
  "timed_out",
  "children_tasks_failed",
  "finalize_task_failed",
  "cancelled"
])

/** True for a finished (absorbing) status. @since 0.1.0 @category predicates */
export const isFinished = (status: TaskStatus): boolean => FINISHED_STATUSES.has(status)

/**
 * Finished statuses other than `completed`: an execution in one of them can be retried.
 * @since 0.1.0 @category models
 */
export const UNSUCCESSFUL_STATUSES: ReadonlySet<TaskStatus> = new Set<TaskStatus>(
  [...FINISHED_STATUSES].filter((s) => s !== "completed")
)

/** True for a status that finished without success. @since 0.1.0 @category predicates */
export const isUnsuccessful = (status: TaskStatus): boolean => UNSUCCESSFUL_STATUSES.has(status)
