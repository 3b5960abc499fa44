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
import type { ExecutionError, ExecutionRow, NewChild } from "../../ExecutionRow.js"
import type { Ids } from "../../Ids.js"
import * as IdsModule from "../../Ids.js"
import type * as Planner from "../../Planner.js"
import type { RegistryService } from "../../Registry.js"
import * as Serialization from "../../Serialization.js"
import { isIdentityCodec, type RunInfo, type RunResult, type TaskDefinition } from "../../TaskDefinition.js"

/** @since 0.1.0 @category models */
export interface RunnerDeps {
  readonly registry: RegistryService
  readonly ids: Ids["Type"]
  readonly shutdownSignal: AbortSignal
  readonly maxSerializedValueBytes: number
  readonly maxChildrenPerParent: number
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
  const error: ExecutionError = { errorType: "generic", message: message === "" ? "task failed" : message, isRetryable }
  // The stack goes to the attempt history (the planner bounds it and keeps it out of `error`).
  const stack = e instanceof Error ? e.stack : undefined
  return typeof stack === "string" && stack !== "" ? { ...error, stack } : error
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

/** What a run of `row` knows about its execution. @since 0.1.0 @category utils */
export const infoOf = (row: ExecutionRow, shutdownSignal: AbortSignal): RunInfo => ({
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
    const executionIds = yield* IdsModule.nextMany(deps.ids, "te_", children.length)
    const out: Array<NewChild> = []
    for (let index = 0; index < children.length; index++) {
      const child = children[index]!
      const task = child.task
      if (task === undefined || task === null || typeof task.prepareInput !== "function") {
        return yield* Effect.fail(nonRetryable(`task '${definition.id}': child ${index} is not a task`))
      }
      const registered = deps.registry.register(task)
      if (Either.isLeft(registered)) return yield* Effect.fail(nonRetryable(registered.left.message))
      const prepared = isIdentityCodec(task.prepareInput) ? child.input : yield* Effect.mapError(
        task.prepareInput(child.input),
        (e) =>
          nonRetryable(`task '${definition.id}': input of child ${index} (task '${task.id}') is invalid: ${e.message}`)
      )
      const what = `input of child ${index} (task '${task.id}')`
      const encoded = Serialization.encode(prepared, what, deps.maxSerializedValueBytes, task.serializer)
      if (Either.isLeft(encoded)) return yield* Effect.fail(nonRetryable(encoded.left.message))
      const made = { ...task.spec, executionId: executionIds[index]!, input: encoded.right }
      out.push(task.sleeping === true ? { ...made, sleepId: prepared as string } : made)
    }
    return out
  })

/**
 * The event that records a timed-out attempt of `row`.
 *
 * @since 0.1.0
 * @category events
 */
export const timedOut = (row: ExecutionRow, nowMs: number): Planner.Event =>
  failed(
    nowMs,
    row.leaseId ?? "",
    { errorType: "timed_out", message: `task '${row.taskId}' timed out after ${row.timeoutMs}ms`, isRetryable: true },
    true
  )

/**
 * When the caller applies the run's timeout itself ({@link ./RunTimeouts}: it interrupts the runner's
 * fiber and records {@link timedOut}), it passes this; `onRunEnded` is called as soon as the run ended.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunControl {
  readonly onRunEnded: () => void
}

/**
 * Runs `row` (claimed by this executor) and returns the event that records its outcome.
 * Interrupted runs (cancel, lost lease, shutdown) are interrupted here too, so nothing is written.
 * The run's timeout is the executor's `RunTimeouts` loop's job: `control.onRunEnded` tells it the run ended.
 *
 * @since 0.1.0
 * @category runners
 */
export const outcome = (deps: RunnerDeps, row: ExecutionRow, control: RunControl): Effect.Effect<Planner.Event> => {
  // Written as a short chain rather than a generator: it runs once per execution, on the hot path.
  const definition = deps.registry.get(row.taskId)
  if (definition === undefined) {
    control.onRunEnded()
    return Effect.map(Clock.currentTimeMillis, (nowMs) => notRegistered(row, nowMs))
  }
  const run = Effect.flatMap(
    Effect.suspend(() => definition.decodeInput(Serialization.decode(row.input, definition.serializer))),
    (input) => definition.run(infoOf(row, deps.shutdownSignal), input)
  )
  return Effect.flatMap(Effect.exit(run), (exit) => {
    control.onRunEnded()
    return Effect.clockWith((clock): Effect.Effect<Planner.Event> => {
      const nowMs = clock.unsafeCurrentTimeMillis()
      if (Exit.isSuccess(exit)) return asEffect(resultEvent(deps, row, definition, exit.value, nowMs))
      // Reached only when the run interrupted itself (an interrupted runner never gets past Effect.exit):
      // record it as a failed attempt instead of leaving the row running until its lease lapses.
      if (Cause.isInterruptedOnly(exit.cause)) {
        return Effect.succeed(failed(nowMs, row.leaseId ?? "", {
          errorType: "generic",
          message: `task '${row.taskId}' was interrupted`,
          isRetryable: true
        }))
      }
      return Effect.succeed(failureEvent(row, Cause.squash(exit.cause), nowMs))
    })
  })
}

const asEffect = (event: Planner.Event | Effect.Effect<Planner.Event>): Effect.Effect<Planner.Event> =>
  Effect.isEffect(event) ? event : Effect.succeed(event)

/** The event for a row whose task is not registered here. */
const notRegistered = (row: ExecutionRow, nowMs: number): Planner.Event =>
  failed(nowMs, row.leaseId ?? "", {
    errorType: "generic",
    message: `task '${row.taskId}' is not registered with this executor`,
    isRetryable: false
  })

/**
 * The event for a run that failed with `error`.
 *
 * @since 0.1.0
 * @category events
 */
export const failureEvent = (row: ExecutionRow, error: unknown, nowMs: number): Planner.Event =>
  failed(nowMs, row.leaseId ?? "", toExecutionError(error))

/**
 * The event for a run that returned `result`: the output encoded and the children prepared. It is
 * returned as it is when that needs no effect (identity output codec, no children), else as an effect.
 *
 * @since 0.1.0
 * @category events
 */
export const resultEvent = (
  deps: RunnerDeps,
  row: ExecutionRow,
  definition: TaskDefinition,
  result: RunResult,
  nowMs: number
): Planner.Event | Effect.Effect<Planner.Event> => {
  const leaseId = row.leaseId ?? ""
  const withOutput = (output: unknown): Planner.Event | Effect.Effect<Planner.Event> => {
    const what = `output of task '${row.taskId}'`
    const runOutput = Serialization.encode(output, what, deps.maxSerializedValueBytes, definition.serializer)
    if (Either.isLeft(runOutput)) {
      return failed(nowMs, leaseId, { errorType: "generic", message: runOutput.left.message, isRetryable: false })
    }
    const succeeded = (children: ReadonlyArray<NewChild>): Planner.Event => ({
      _tag: "RunSucceeded",
      nowMs,
      leaseId,
      runOutput: runOutput.right,
      children,
      finalize: definition.kind === "parentTask" && definition.finalize !== undefined ? definition.finalize.spec : null,
      isParent: definition.kind === "parentTask",
      ...(definition.loop === undefined ? {} : { loop: definition.loop })
    })
    if (result.children.length === 0) return succeeded([])
    return Effect.map(
      Effect.either(prepareChildren(deps, definition, result.children)),
      (children) => (Either.isLeft(children) ? failed(nowMs, leaseId, children.left) : succeeded(children.right))
    )
  }
  if (isIdentityCodec(definition.encodeOutput)) return withOutput(result.output)
  return Effect.flatMap(Effect.either(definition.encodeOutput(result.output)), (encodedOutput) => {
    if (Either.isRight(encodedOutput)) return asEffect(withOutput(encodedOutput.right))
    return Effect.succeed(failed(nowMs, leaseId, {
      ...toExecutionError(encodedOutput.left),
      message: `output of task '${row.taskId}' cannot be encoded: ${toExecutionError(encodedOutput.left).message}`,
      isRetryable: false
    }))
  })
}
