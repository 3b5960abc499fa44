/**
 * Sleeping tasks: executions that no executor runs. One is created `running` without a lease (it
 * holds no executor slot), named by its sleep id (its input, a string), and ends when a wakeup
 * names it (`completed` with an output, or `failed` with an error) or, if none comes first, as
 * `timed_out` once its `timeoutMs` passed (the expiry loop of any executor on the storage ends it;
 * its deadline is stored, so a restart neither loses nor shortens it).
 *
 * A wakeup is applied once: a second one, or one after the timeout, changes nothing, and the
 * execution returned shows how it had finished. A sleep id is unique per task: enqueueing a
 * sleeping task twice with one id returns the first execution (the id is the root's idempotency
 * key); a child with an id that another execution of its task holds fails its parent's step.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import {
  ExecutionNotFound,
  InvalidTaskDefinition,
  InvalidTaskInput,
  type StorageError,
  UnstorableValue
} from "./EngineError.js"
import type { ExecutionRow } from "./ExecutionRow.js"
import { makeSleeping } from "./ExecutionRow.js"
import { toExecutionError } from "./internal/executor/Runner.js"
import { describeValue } from "./internal/OptionKeys.js"
import type { RegistryService } from "./Registry.js"
import * as Serialization from "./Serialization.js"
import type { TaskDefinition } from "./TaskDefinition.js"
import * as TaskDefinitionModule from "./TaskDefinition.js"
import * as TaskExecution from "./TaskExecution.js"
import type { TaskStorage } from "./TaskStorage.js"

/** How a wakeup ends a sleeping execution. @since 0.1.0 @category models */
export type WakeupResult<O> =
  | { readonly status: "completed"; readonly output: O }
  | { readonly status: "failed"; readonly error: unknown }

/** Anything that carries a sleeping task's definition. @since 0.1.0 @category models */
export interface SleepingTaskLike<O> {
  readonly id: string
  readonly definition: TaskDefinition
  readonly "~types"?: { readonly input: (i: string) => void; readonly output: O } | undefined
}

/** Errors a wakeup can fail with. @since 0.1.0 @category errors */
export type WakeupError = ExecutionNotFound | InvalidTaskDefinition | UnstorableValue | StorageError

/** The wakeup operation of the executor service. @since 0.1.0 @category models */
export interface SleepingClient {
  /**
   * Ends the sleeping execution of `task` named `sleepId` with `result`, with the usual consequences
   * for its parent, and returns the execution. Exactly once: when it had already finished (woken, timed
   * out, cancelled) this changes nothing and returns it as it finished. Fails with ExecutionNotFound
   * when no execution of `task` holds `sleepId`.
   */
  readonly wakeup: <O>(
    task: SleepingTaskLike<O>,
    sleepId: string,
    result: WakeupResult<O>
  ) => Effect.Effect<TaskExecution.TaskExecution, WakeupError>
}

/** Longest sleep id (that of an idempotency key). @since 0.1.0 @category limits */
export const MAX_SLEEP_ID_LENGTH = 1_024

/** A message naming what is wrong with a sleep id, or undefined. @since 0.1.0 @category validation */
export const sleepIdProblem = (id: unknown): string | undefined => {
  const expected = `a sleep id must be a non-empty string of at most ${MAX_SLEEP_ID_LENGTH} characters`
  if (typeof id !== "string" || id.length === 0) return `${expected}, got ${describeValue(id)}`
  if (id.length > MAX_SLEEP_ID_LENGTH) return `${expected}, got ${id.length} characters`
  if (id.includes("\u0000") || !(id as unknown as { isWellFormed(): boolean }).isWellFormed()) {
    return "a sleep id must not contain a NUL character or a lone surrogate"
  }
  return undefined
}

/**
 * The definition of a sleeping task: its input is its sleep id (a string, stored as JSON), its
 * output is encoded with `output` on a wakeup. No retries; its run is never called.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeDefinition = (options: {
  readonly id: unknown
  readonly timeoutMs: unknown
  readonly encodeOutput?: ((output: unknown) => Effect.Effect<unknown, unknown>) | undefined
  readonly decodeOutput?: ((stored: unknown) => Effect.Effect<unknown, unknown>) | undefined
}): Either.Either<TaskDefinition, InvalidTaskDefinition> =>
  Either.map(
    TaskDefinitionModule.makeSpec({ id: options.id, timeoutMs: options.timeoutMs }),
    (spec): TaskDefinition => ({
      id: spec.taskId,
      kind: "task",
      spec,
      prepareInput: (input) => {
        const problem = sleepIdProblem(input)
        return problem === undefined
          ? Effect.succeed(input)
          : Effect.fail(new InvalidTaskInput({ taskId: spec.taskId, message: `sleeping task input: ${problem}` }))
      },
      decodeInput: Effect.succeed,
      encodeOutput: options.encodeOutput ?? Effect.succeed,
      decodeOutput: options.decodeOutput ?? Effect.succeed,
      run: () => Effect.fail(new Error(`sleeping task '${spec.taskId}' is woken up, never run`)),
      finalize: undefined,
      sleeping: true
    })
  )

/**
 * `row`, a new root of `definition`, as a sleeping row when the definition is a sleeping task's (its
 * input, plain JSON, is its sleep id); else `row` itself.
 *
 * @since 0.1.0
 * @category constructors
 */
export const rootRow = (definition: TaskDefinition | undefined, row: ExecutionRow): ExecutionRow =>
  definition?.sleeping !== true || row.input === null ? row : makeSleeping({
    spec: { taskId: row.taskId, timeoutMs: row.timeoutMs, retry: row.retry, sleepMsBeforeRun: 0 },
    executionId: row.executionId,
    input: row.input,
    sleepId: JSON.parse(row.input) as string,
    nowMs: row.createdAt
  })

/** The wakeup operation over the executor's (publishing) storage. @since 0.1.0 @category constructors */
export const makeClient = (deps: {
  readonly storage: TaskStorage["Type"]
  readonly registry: RegistryService
  readonly register: (task: SleepingTaskLike<any>) => Effect.Effect<void, InvalidTaskDefinition>
  readonly maxSerializedValueBytes: number
}): SleepingClient => ({
  wakeup: (task, sleepId, result) =>
    Effect.gen(function*() {
      const definition = task.definition
      if (definition?.sleeping !== true) {
        return yield* new InvalidTaskDefinition({
          taskId: String(task.id),
          message: `task '${String(task.id)}' is not a sleeping task: only a sleeping task can be woken up`
        })
      }
      yield* deps.register(task)
      const notFound = new ExecutionNotFound({
        executionId: `of sleeping task '${task.id}' with id ${JSON.stringify(sleepId)}`
      })
      if (sleepIdProblem(sleepId) !== undefined) return yield* notFound
      const found = yield* deps.storage.list({ taskId: task.id, sleepId, limit: 1 })
      const row = found[0]
      if (row === undefined) return yield* notFound
      const outcome = result.status === "completed"
        ? { status: "completed" as const, output: yield* encodeOutput(deps, definition, result.output) }
        : { status: "failed" as const, error: { ...toExecutionError(result.error), isRetryable: false } }
      const nowMs = yield* Clock.currentTimeMillis
      yield* deps.storage.apply([{ executionId: row.executionId, event: { _tag: "Wakeup", nowMs, outcome } }])
      const after = yield* deps.storage.get(row.executionId)
      if (after === undefined) return yield* notFound
      return yield* TaskExecution.fromRow(after, deps.registry)
    })
})

const encodeOutput = (
  deps: { readonly maxSerializedValueBytes: number },
  definition: TaskDefinition,
  output: unknown
): Effect.Effect<string | null, UnstorableValue> =>
  Effect.flatMap(
    Effect.mapError(definition.encodeOutput(output), (e) =>
      new UnstorableValue({
        what: `wakeup output of sleeping task '${definition.id}'`,
        message: e instanceof Error ? e.message : String(e)
      })),
    (encoded) =>
      Either.match(
        Serialization.encode(
          encoded,
          `wakeup output of sleeping task '${definition.id}'`,
          deps.maxSerializedValueBytes,
          definition.serializer
        ),
        { onLeft: Effect.fail, onRight: Effect.succeed }
      )
  )
