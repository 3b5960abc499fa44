/**
 * Runs one claimed execution: decodes its input, runs it with its timeout, and turns the outcome
 * into a planner event (the fenced finish). Interruption (cancel, lost lease, shutdown) writes nothing.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import type { ExecutionError, ExecutionRow, NewChild } from "./ExecutionRow.js"
import type { Ids } from "./Ids.js"
import type * as Planner from "./Planner.js"
import type { RegistryService } from "./Registry.js"
import * as Serialization from "./Serialization.js"
import type { RunInfo, TaskDefinition } from "./TaskDefinition.js"

/** @since 0.1.0 @category models */
export interface RunnerDeps {
  readonly registry: RegistryService
  readonly ids: Ids["Type"]
  readonly shutdownSignal: AbortSignal
  readonly maxSerializedValueBytes: number
  readonly maxChildrenPerParent: number
}

class RunTimedOut {
  readonly _tag = "RunTimedOut"
}

/**
 * Turns anything a run failed with into the stored error. An error with a boolean `isRetryable`
 * (the facade's `DurableTaskError`, the Effect API's `TaskRunError`) decides retries; anything
 * else is retryable.
 *
 * @since 0.1.0
 * @category utils
 */
export const toExecutionError = (e: unknown): ExecutionError => {
  const isRetryable = typeof e === "object" && e !== null && "isRetryable" in e && typeof e.isRetryable === "boolean"
    ? e.isRetryable
    : true
  const message = e instanceof Error
    ? e.message
    : typeof e === "object" && e !== null && "message" in e && typeof e.message === "string"
    ? e.message
    : typeof e === "string"
    ? e
    : safeString(e)
  return { errorType: "generic", message: message === "" ? "task failed" : message, isRetryable }
}

const safeString = (e: unknown): string => {
  try {
    return JSON.stringify(e) ?? String(e)
  } catch {
    return String(e)
  }
}

const failed = (nowMs: number, leaseId: string, error: ExecutionError, timedOut = false): Planner.Event => ({
  _tag: "RunFailed",
  nowMs,
  leaseId,
  error,
  timedOut
})

const infoOf = (row: ExecutionRow, shutdownSignal: AbortSignal): RunInfo => ({
  taskId: row.taskId,
  executionId: row.executionId,
  attempt: row.retryAttempts,
  prevError: row.prevError ?? undefined,
  shutdownSignal,
  rootTaskExecution: row.rootExecutionId !== null && row.rootTaskId !== null
    ? { taskId: row.rootTaskId, executionId: row.rootExecutionId }
    : undefined,
  parentTaskExecution: row.parentExecutionId !== null && row.parentTaskId !== null
    ? {
      taskId: row.parentTaskId,
      executionId: row.parentExecutionId,
      indexInParentChildTaskExecutions: row.indexInParent,
      isFinalizeTaskOfParentTask: row.isFinalize
    }
    : undefined
})

const prepareChildren = (
  deps: RunnerDeps,
  definition: TaskDefinition,
  children: ReadonlyArray<{ readonly task: TaskDefinition; readonly input: unknown }>
): Effect.Effect<ReadonlyArray<NewChild>, ExecutionError> =>
  Effect.gen(function*() {
    const nonRetryable = (message: string): ExecutionError => ({ errorType: "generic", message, isRetryable: false })
    if (definition.kind === "task" && children.length > 0) {
      return yield* Effect.fail(nonRetryable(`task '${definition.id}' is not a parent task and cannot return children`))
    }
    if (children.length > deps.maxChildrenPerParent) {
      return yield* Effect.fail(
        nonRetryable(
          `task '${definition.id}' returned ${children.length} children, over the limit of ${deps.maxChildrenPerParent}`
        )
      )
    }
    const out: Array<NewChild> = []
    for (let index = 0; index < children.length; index++) {
      const child = children[index]!
      const task = child.task
      if (task === undefined || task === null || typeof task.prepareInput !== "function") {
        return yield* Effect.fail(nonRetryable(`task '${definition.id}': child ${index} is not a task`))
      }
      const registered = deps.registry.register(task)
      if (Either.isLeft(registered)) return yield* Effect.fail(nonRetryable(registered.left.message))
      const prepared = yield* Effect.mapError(
        task.prepareInput(child.input),
        (e) => nonRetryable(`task '${definition.id}': input of child ${index} (task '${task.id}') is invalid: ${e.message}`)
      )
      const encoded = Serialization.encode(prepared, `input of child ${index} (task '${task.id}')`, deps.maxSerializedValueBytes)
      if (Either.isLeft(encoded)) return yield* Effect.fail(nonRetryable(encoded.left.message))
      out.push({ ...task.spec, executionId: yield* deps.ids.next("te_"), input: encoded.right })
    }
    return out
  })

/**
 * Runs `row` (claimed by this executor) and returns the event that records its outcome.
 * Interrupted runs (cancel, lost lease, shutdown) are interrupted here too, so nothing is written.
 *
 * @since 0.1.0
 * @category runners
 */
export const outcome = (deps: RunnerDeps, row: ExecutionRow): Effect.Effect<Planner.Event> =>
  Effect.gen(function*() {
    const leaseId = row.leaseId ?? ""
    const definition = deps.registry.get(row.taskId)
    if (definition === undefined) {
      const nowMs = yield* Clock.currentTimeMillis
      return failed(nowMs, leaseId, {
        errorType: "generic",
        message: `task '${row.taskId}' is not registered with this executor`,
        isRetryable: false
      })
    }
    const attempt = Effect.suspend(() => definition.decodeInput(Serialization.decode(row.input))).pipe(
      Effect.flatMap((input) => definition.run(infoOf(row, deps.shutdownSignal), input)),
      Effect.timeoutFail({ duration: row.timeoutMs, onTimeout: () => new RunTimedOut() })
    )
    const exit = yield* Effect.exit(attempt)
    const nowMs = yield* Clock.currentTimeMillis
    if (Exit.isFailure(exit)) {
      if (Cause.isInterruptedOnly(exit.cause)) return yield* Effect.interrupt
      const error = Cause.squash(exit.cause)
      if (error instanceof RunTimedOut) {
        return failed(
          nowMs,
          leaseId,
          { errorType: "timed_out", message: `task '${row.taskId}' timed out after ${row.timeoutMs}ms`, isRetryable: true },
          true
        )
      }
      return failed(nowMs, leaseId, toExecutionError(error))
    }
    const result = exit.value
    const encodedOutput = yield* Effect.either(definition.encodeOutput(result.output))
    if (Either.isLeft(encodedOutput)) {
      return failed(nowMs, leaseId, {
        ...toExecutionError(encodedOutput.left),
        message: `output of task '${row.taskId}' cannot be encoded: ${toExecutionError(encodedOutput.left).message}`,
        isRetryable: false
      })
    }
    const runOutput = Serialization.encode(encodedOutput.right, `output of task '${row.taskId}'`, deps.maxSerializedValueBytes)
    if (Either.isLeft(runOutput)) {
      return failed(nowMs, leaseId, { errorType: "generic", message: runOutput.left.message, isRetryable: false })
    }
    const children = yield* Effect.either(prepareChildren(deps, definition, result.children))
    if (Either.isLeft(children)) return failed(nowMs, leaseId, children.left)
    return {
      _tag: "RunSucceeded",
      nowMs,
      leaseId,
      runOutput: runOutput.right,
      children: children.right,
      finalize: definition.kind === "parentTask" && definition.finalize !== undefined ? definition.finalize.spec : null,
      parentTask: definition.kind === "parentTask"
    }
  })
