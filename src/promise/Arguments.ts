/**
 * Checks of the arguments the Promise facade's methods take, so that a wrong argument gets the
 * facade's own error naming it, never a bare `TypeError` from deep inside.
 *
 * @since 0.1.0
 */
import { numberProblem } from "../internal/NumberOption.js"
import { describeValue, unknownKeyProblem } from "../internal/OptionKeys.js"
import type { RegistryService } from "../Registry.js"
import type { TaskDefinition } from "../TaskDefinition.js"
import { DurableExecutionNotFoundError, DurableExecutorOptionsError, DurableTaskDefinitionError } from "./errors.js"

/**
 * What is wrong with `task` when it is not a task defined with the executor whose registry is
 * `registry` (`task 'x' was not defined with this executor`), or undefined.
 *
 * @since 0.1.0
 * @category validation
 */
export const foreignTaskProblem = (registry: RegistryService, task: unknown): string | undefined => {
  const definition = typeof task === "object" && task !== null
    ? (task as { definition?: unknown }).definition
    : undefined
  if (typeof definition !== "object" || definition === null) {
    return `expected a task defined with this executor (executor.task(...)), got ${describeValue(task)}`
  }
  const id = (definition as TaskDefinition).id
  return registry.get(id) === definition ? undefined : `task '${id}' was not defined with this executor`
}

/**
 * The task's definition; throws DurableTaskDefinitionError when `task` is not a task of this
 * executor (`where` names the argument: `enqueueTask`).
 *
 * @since 0.1.0
 * @category validation
 */
export const ownTask = (registry: RegistryService, task: unknown, where: string): TaskDefinition => {
  const problem = foreignTaskProblem(registry, task)
  if (problem !== undefined) throw new DurableTaskDefinitionError(`${where}: ${problem}`)
  return (task as { readonly definition: TaskDefinition }).definition
}

/**
 * Throws DurableExecutionNotFoundError when `executionId` is not a non-empty string: no execution has
 * such an id.
 *
 * @since 0.1.0
 * @category validation
 */
export const checkExecutionId = (executionId: unknown, where: string): string => {
  if (typeof executionId !== "string" || executionId.length === 0) {
    throw new DurableExecutionNotFoundError(
      `${where}: executionId must be a non-empty string, got ${describeValue(executionId)}`
    )
  }
  return executionId
}

/**
 * The inputs of `enqueueTasks`: an array or another iterable object (a string is refused: it would
 * enqueue one execution per character).
 *
 * @since 0.1.0
 * @category validation
 */
export const checkInputs = <I>(inputs: Iterable<I>): Iterable<I> => {
  if (
    typeof inputs !== "object" || inputs === null ||
    typeof (inputs as Partial<Iterable<I>>)[Symbol.iterator] !== "function"
  ) {
    throw new DurableTaskDefinitionError(
      `enqueueTasks: inputs must be an array (or another iterable), got ${describeValue(inputs)}`
    )
  }
  return inputs
}

/** Options of a wait, checked. @since 0.1.0 @category models */
export interface WaitOptions {
  readonly signal: AbortSignal | undefined
  readonly pollMs: number | undefined
}

const noWaitOptions: WaitOptions = { signal: undefined, pollMs: undefined }
const WAIT_KEYS = ["signal", "pollingIntervalMs"]

const isAbortSignal = (value: unknown): value is AbortSignal =>
  value instanceof AbortSignal || (
    typeof value === "object" && value !== null && typeof (value as AbortSignal).aborted === "boolean" &&
    typeof (value as AbortSignal).addEventListener === "function"
  )

/**
 * The options of `waitAndGetExecution`, or the DurableExecutorOptionsError naming what is wrong.
 *
 * @since 0.1.0
 * @category validation
 */
export const waitOptions = (options: unknown): WaitOptions | DurableExecutorOptionsError => {
  if (options === undefined) return noWaitOptions
  const bad = (message: string) => new DurableExecutorOptionsError(`waitAndGetExecution: ${message}`)
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    return bad(`options must be an object { signal, pollingIntervalMs }, got ${describeValue(options)}`)
  }
  const unknownKey = unknownKeyProblem(options, WAIT_KEYS, "waitAndGetExecution")
  if (unknownKey !== undefined) return new DurableExecutorOptionsError(unknownKey)
  const { pollingIntervalMs, signal } = options as { readonly signal?: unknown; readonly pollingIntervalMs?: unknown }
  if (signal !== undefined && !isAbortSignal(signal)) {
    return bad(`signal must be an AbortSignal, got ${describeValue(signal)}`)
  }
  const pollProblem = pollingIntervalMs === undefined
    ? undefined
    : numberProblem("pollingIntervalMs", pollingIntervalMs, { min: 1, max: 3_600_000, integer: true })
  if (pollProblem !== undefined) return bad(pollProblem)
  return { signal, pollMs: pollingIntervalMs as number | undefined }
}
