/**
 * Converts what a facade task's `run` / `runParent` returned into the engine's {@link RunResult}.
 * A `runParent` result is checked on the way: a result that is not `{ output, childrenTasks }`, a
 * `childrenTasks` that is not an array, a child without a task or with a task of another executor
 * fails the execution (not retried) with a message naming the problem.
 *
 * @since 0.1.0
 */
import { describeValue, nearestKey } from "../internal/OptionKeys.js"
import type { RegistryService } from "../Registry.js"
import type { ChildRequest, RunResult, TaskDefinition } from "../TaskDefinition.js"
import { foreignTaskProblem } from "./Arguments.js"
import { DurableExecutionError } from "./errors.js"

const noChildren: ReadonlyArray<never> = []
const RESULT_KEYS = ["output", "childrenTasks"]

/** A plain task's output as a run result. @since 0.1.0 @category constructors */
export const ofTask = (output: unknown): RunResult => ({ output, children: noChildren })

/**
 * Converts a `runParent` result of task `taskId`; throws a non-retryable DurableExecutionError when
 * it is malformed. `registry` is the executor's: each child's task must be one of its tasks.
 *
 * @since 0.1.0
 * @category constructors
 */
export const ofParent = (taskId: string, registry: RegistryService) => (result: unknown): RunResult => {
  const refuse = (problem: string): never => {
    throw new DurableExecutionError(`runParent of task '${taskId}' returned ${problem}`, false)
  }
  if (result === null || typeof result !== "object" || Array.isArray(result)) {
    return refuse(`${describeValue(result)}, not an object { output, childrenTasks }`)
  }
  for (const key of Object.keys(result)) {
    if (RESULT_KEYS.includes(key)) continue
    const near = nearestKey(key, RESULT_KEYS)
    refuse(
      `an unknown key '${key}' (${
        near === undefined ? "expected output and childrenTasks" : `did you mean '${near}'?`
      })`
    )
  }
  const { childrenTasks, output } = result as { readonly output?: unknown; readonly childrenTasks?: unknown }
  if (childrenTasks === undefined) return { output, children: noChildren }
  if (!Array.isArray(childrenTasks)) {
    return refuse(`childrenTasks that is not an array: ${describeValue(childrenTasks)}`)
  }
  const children: Array<ChildRequest> = new Array(childrenTasks.length)
  for (let i = 0; i < childrenTasks.length; i++) {
    const child: unknown = childrenTasks[i]
    if (child === null || typeof child !== "object") {
      refuse(`childrenTasks[${i}] that is not { task, input }: ${describeValue(child)}`)
    }
    const { input, task } = child as { readonly task?: unknown; readonly input?: unknown }
    if (task === undefined || task === null) refuse(`childrenTasks[${i}] without a task`)
    const problem = foreignTaskProblem(registry, task)
    if (problem !== undefined) refuse(`childrenTasks[${i}] with a wrong task: ${problem}`)
    children[i] = { task: (task as { readonly definition: TaskDefinition }).definition, input }
  }
  return { output, children }
}
