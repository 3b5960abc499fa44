/**
 * The input codecs of `executor.inputSchema(schema)`: the input is validated at enqueue and stored as
 * given (raw, through the task's serializer); each run validates the stored value again and receives
 * the schema's output. So a transforming schema (effect `Schema.Date`, `z.coerce.date()`, a zod
 * `.transform`) gives the run the value its type promises, whatever the serializer can store, and a
 * schema changed between enqueue and run applies to executions already stored.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { InvalidTaskInput } from "../EngineError.js"
import type { TaskDefinition } from "../TaskDefinition.js"
import { DurableExecutionError, DurableTaskInputError } from "./errors.js"
import { formatIssues, type StandardResult, type StandardSchemaV1 } from "./StandardSchema.js"

/**
 * A task's input codecs, made once its id is known: `prepareInput` at enqueue and `decodeInput`
 * (optional: the identity) before each run.
 *
 * @since 0.1.0
 * @category models
 */
export type InputCodecs = (taskId: string) => {
  readonly prepareInput: TaskDefinition["prepareInput"]
  readonly decodeInput?: TaskDefinition["decodeInput"] | undefined
}

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/**
 * The codecs of a Standard Schema: refuse invalid input at enqueue (storing the input as given),
 * derive the schema's output from the stored value before each run. A stored value the schema no
 * longer accepts fails the run, not retried, with the schema's issues.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromStandardSchema = (schema: StandardSchemaV1<any, any>): InputCodecs => (taskId) => {
  const validate = <E>(input: unknown, onThrow: (e: unknown) => E) =>
    Effect.tryPromise({
      try: async (): Promise<StandardResult<unknown>> => await schema["~standard"].validate(input),
      catch: onThrow
    })
  return {
    prepareInput: (input) =>
      Effect.flatMap(
        validate(input, (e) => invalid(taskId, messageOf(e), e)),
        (result) =>
          result.issues !== undefined
            ? Effect.fail(invalid(taskId, formatIssues(result.issues)))
            : Effect.succeed(input)
      ),
    decodeInput: (stored) =>
      Effect.flatMap(
        validate(stored, (e) => new DurableExecutionError(`task '${taskId}': its input schema threw: ${messageOf(e)}`)),
        (result) =>
          result.issues !== undefined
            ? Effect.fail(
              new DurableTaskInputError(
                `the stored input of task '${taskId}' does not pass its schema: ${formatIssues(result.issues)}`
              )
            )
            : Effect.succeed(result.value)
      )
  }
}

const invalid = (taskId: string, message: string, cause?: unknown) =>
  new InvalidTaskInput({ taskId, message: `invalid input for task '${taskId}': ${message}`, cause })
