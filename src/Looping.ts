/**
 * Looping tasks: one execution that runs an iteration task until it returns `{ isDone: true,
 * output }`, at most `maxAttempts` times, sleeping `sleepMs` between iterations. The looping
 * execution is a parent with one child at a time: when an iteration completes without being done,
 * the planner inserts the next one (`<id>_i<n>`, ready at `now + sleepMs`, a stored start time, so a
 * restart neither loses nor shortens the sleep) as the parent's only child. The tree stays two levels
 * deep however many iterations run. Output: `{ isSuccess: true, output }`, or `{ isSuccess: false }`
 * when no iteration was done; an iteration that fails fails the loop (`children_tasks_failed`).
 *
 * The iteration's output is read by the planner, so it is stored as plain JSON (`isDone` a boolean).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { InvalidTaskDefinition } from "./EngineError.js"
import type { ExecutionError, ExecutionRow } from "./ExecutionRow.js"
import { makeReady } from "./ExecutionRow.js"
import { numberProblem } from "./internal/NumberOption.js"
import type { Step } from "./Planner.js"
import type { TaskDefinition } from "./TaskDefinition.js"
import * as TaskDefinitionModule from "./TaskDefinition.js"
import type { TaskStatus } from "./TaskStatus.js"

type Finish = (
  row: ExecutionRow,
  nowMs: number,
  status: TaskStatus,
  fields: { readonly output?: string | null; readonly error?: ExecutionError | null }
) => Step

/** The iteration output's `{ isDone, output }`, or undefined when it is not of that shape. */
const doneOf = (text: string | null): { readonly isDone: boolean; readonly output: unknown } | undefined => {
  if (text === null) return undefined
  try {
    const parsed: unknown = JSON.parse(text)
    if (typeof parsed !== "object" || parsed === null || !("isDone" in parsed)) return undefined
    return typeof parsed.isDone === "boolean" ? { isDone: parsed.isDone, output: (parsed as any).output } : undefined
  } catch {
    return undefined
  }
}

/**
 * The planner's step when the iteration `child` of the looping `row` (counted, still waiting)
 * completed: complete the loop, or insert the next iteration as its only child.
 *
 * @since 0.1.0
 * @category transitions
 */
export const afterIteration = (row: ExecutionRow, child: ExecutionRow, nowMs: number, finish: Finish): Step => {
  const loop = row.loop!
  const done = doneOf(child.output)
  if (done === undefined) {
    return finish(row, nowMs, "failed", {
      error: {
        errorType: "generic",
        message: `iteration ${loop.iteration} (task '${child.taskId}', execution ${child.executionId}) of looping ` +
          `task '${row.taskId}' did not output { isDone: boolean, output } as plain JSON`,
        isRetryable: false
      }
    })
  }
  if (done.isDone) {
    const output = done.output === undefined ? "" : `,"output":${JSON.stringify(done.output)}`
    return finish(row, nowMs, "completed", { output: `{"isSuccess":true${output}}` })
  }
  if (loop.iteration >= loop.maxAttempts) return finish(row, nowMs, "completed", { output: "{\"isSuccess\":false}" })
  const executionId = `${row.executionId}_i${loop.iteration}`
  const next: ExecutionRow = {
    ...row,
    children: [{ taskId: child.taskId, executionId }],
    completedChildren: 0,
    loop: { ...loop, iteration: loop.iteration + 1 },
    updatedAt: nowMs
  }
  const spec = { taskId: child.taskId, timeoutMs: child.timeoutMs, retry: child.retry, sleepMsBeforeRun: loop.sleepMs }
  const inserted = makeReady({
    spec,
    executionId,
    input: child.input,
    nowMs,
    parent: { row: next, index: 0, isFinalize: false }
  })
  return { _tag: "Step", row: next, inserts: [inserted], followUps: [] }
}

/**
 * The definition of a looping task over `iteration`: its input is the iteration's (validated at
 * enqueue, stored as plain JSON), its output `{ isSuccess: true, output }` (the iteration's output
 * decoded) or `{ isSuccess: false }`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeDefinition = (options: {
  readonly id: unknown
  readonly iteration: TaskDefinition
  readonly maxAttempts: unknown
  readonly sleepMsBetweenIterations: unknown
}): Either.Either<TaskDefinition, InvalidTaskDefinition> => {
  const { iteration } = options
  const invalid = (message: string) =>
    Either.left(new InvalidTaskDefinition({ taskId: String(options.id), message: `task '${options.id}': ${message}` }))
  if (iteration === undefined || typeof iteration?.prepareInput !== "function") {
    return invalid("the iteration task must be a task")
  }
  const problem = numberProblem("maxAttempts", options.maxAttempts, { min: 1, max: 1_000_000, integer: true }) ??
    numberProblem("sleepMsBetweenIterations", options.sleepMsBetweenIterations, {
      min: 0,
      max: TaskDefinitionModule.MAX_TIMEOUT_MS,
      integer: true
    })
  if (problem !== undefined) return invalid(problem)
  const loop = { maxAttempts: options.maxAttempts as number, sleepMs: options.sleepMsBetweenIterations as number }
  return Either.map(
    TaskDefinitionModule.makeSpec({ id: options.id, timeoutMs: iteration.spec.timeoutMs }),
    (spec): TaskDefinition => ({
      id: spec.taskId,
      kind: "parentTask",
      spec,
      prepareInput: (input) => Effect.as(iteration.prepareInput(input), input),
      decodeInput: Effect.succeed,
      encodeOutput: Effect.succeed,
      decodeOutput: (stored) => {
        // The run's own output (null) is shown as it is.
        if (typeof stored !== "object" || stored === null) return Effect.succeed(stored)
        const result = stored as { readonly isSuccess: boolean; readonly output?: unknown }
        if (result.isSuccess !== true) return Effect.succeed({ isSuccess: false })
        return Effect.map(
          iteration.decodeOutput({ isDone: true, output: result.output }),
          (decoded) => ({ isSuccess: true, output: (decoded as { readonly output?: unknown })?.output })
        )
      },
      run: (_info, input) => Effect.succeed({ output: null, children: [{ task: iteration, input }] }),
      finalize: undefined,
      loop
    })
  )
}
