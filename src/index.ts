/**
 * durable-tasks: the Promise facade (the seed README's API). Effect apps import "durable-tasks/effect".
 *
 * @since 0.1.0
 */
import "./internal/EffectVersion.js" // first: names an unsupported effect version
export type { ErrorType, ExecutionError, ExecutionRef } from "./ExecutionRow.js"
export { defaults as executorDefaults } from "./ExecutorConfig.js"
export { DurableExecutor, type DurableExecutorOptions, type DurableTaskBuilder } from "./promise/DurableExecutor.js"
export * from "./promise/errors.js"
export type {
  DurableExecutionPage,
  DurableExecutionTree,
  DurableListExecutionsOptions,
  DurablePurgeExecutionsOptions
} from "./promise/Operations.js"
export type { DurableCancelCounts, DurableExecutionFilter, DurableRetryCounts } from "./promise/Redrive.js"
export type { DurableSchedule, DurableScheduleOptions } from "./promise/Schedules.js"
export { defaultSerializer, type DurableSerializer } from "./promise/Serializer.js"
export type { StandardSchemaV1 } from "./promise/StandardSchema.js"
export {
  createInMemoryStorage,
  createPostgresStorage,
  createSqliteStorage,
  type DurableStorage,
  type PostgresStorageOptions,
  type SqliteStorageOptions
} from "./promise/storage.js"
export * from "./promise/types.js"
export type { RetryOptions } from "./RetryOptions.js"
export type { TaskAttempt as DurableTaskAttempt } from "./TaskExecution.js"
export { FINISHED_STATUSES, TASK_STATUSES, type TaskStatus } from "./TaskStatus.js"
