/**
 * durable-tasks for Effect apps: task definitions, the executor service and layers, the storage
 * port and its backends (memory, SQLite, Postgres), and the pure planner.
 *
 * @since 0.1.0
 */
import "./internal/EffectVersion.js" // first: names an unsupported effect version
export * as Changes from "./Changes.js"
export * as CronSchedule from "./CronSchedule.js"
export * as DurableExecutor from "./DurableExecutor.js"
export * as EngineError from "./EngineError.js"
export * as ExecutionQueries from "./ExecutionQueries.js"
export * as ExecutionRow from "./ExecutionRow.js"
export * as ExecutionTree from "./ExecutionTree.js"
export * as Executor from "./Executor.js"
export * as ExecutorConfig from "./ExecutorConfig.js"
export * as Ids from "./Ids.js"
export * as MemoryScheduleStorage from "./MemoryScheduleStorage.js"
export * as MemoryStorage from "./MemoryStorage.js"
export * as Metrics from "./Metrics.js"
export * as PgSignals from "./PgSignals.js"
export * as PgStorage from "./PgStorage.js"
export * as Planner from "./Planner.js"
export * as Registry from "./Registry.js"
export * as RetryOptions from "./RetryOptions.js"
export * as Schedules from "./Schedules.js"
export * as ScheduleStorage from "./ScheduleStorage.js"
export * as Serialization from "./Serialization.js"
export * as Signals from "./Signals.js"
export * as SqliteStorage from "./SqliteStorage.js"
export * as SqlStorage from "./SqlStorage.js"
export * as StorageDriver from "./StorageDriver.js"
export * as Task from "./Task.js"
export * as TaskDefinition from "./TaskDefinition.js"
export * as TaskExecution from "./TaskExecution.js"
export * as TaskStatus from "./TaskStatus.js"
export * as TaskStorage from "./TaskStorage.js"
