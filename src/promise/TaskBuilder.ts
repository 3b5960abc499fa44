/**
 * How the Promise facade turns task options into the engine's {@link TaskDefinition}: options checked
 * (unknown keys named with the nearest known one, `run` / `runParent` a function, a finalize task of
 * either kind), input validators from a function or a Standard Schema, and run results converted
 * (and, for `runParent`, checked) by {@link RunResult}.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { InvalidTaskInput } from "../EngineError.js"
import * as FlowControl from "../FlowControl.js"
import type { RegistryService } from "../Registry.js"
import type { TaskDefinition } from "../TaskDefinition.js"
import * as TaskDefinitionModule from "../TaskDefinition.js"
import { DurableTaskDefinitionError } from "./errors.js"
import * as RunResult from "./RunResult.js"
import * as SchemaInput from "./SchemaInput.js"
import type * as Serializer from "./Serializer.js"
import type { StandardSchemaV1 } from "./StandardSchema.js"
import type { DurableParentTaskOptions, DurableParentTaskOutput, DurableTask, DurableTaskOptions } from "./types.js"
import { callUser, contextOf, isPromiseLike } from "./UserRun.js"

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/**
 * The input codecs (validation at enqueue, derivation before each run) of the task with this id. @since 0.1.0
 * @category models
 */
export type Validator = SchemaInput.InputCodecs

/** A builder with input validation fixed: `.task(...)` or `.parentTask(...)`. @since 0.1.0 @category models */
export interface DurableTaskBuilder<TRawInput, TInput> {
  task<TOutput>(options: DurableTaskOptions<TInput, TOutput>): DurableTask<TRawInput, TOutput>
  parentTask<TRunOutput, TOutput = DurableParentTaskOutput<TRunOutput>>(
    options: DurableParentTaskOptions<TInput, TRunOutput, TOutput>
  ): DurableTask<TRawInput, TOutput>
}

/** A validator from a function (sync or async); what it returns is stored. @since 0.1.0 @category constructors */
export const functionValidator = (fn: (input: any) => unknown): Validator => (taskId) => ({
  prepareInput: (input) =>
    Effect.tryPromise({
      try: async () => await fn(input),
      catch: (e) =>
        new InvalidTaskInput({ taskId, message: `invalid input for task '${taskId}': ${messageOf(e)}`, cause: e })
    })
})

/** The codecs of a Standard Schema: see {@link SchemaInput.fromStandardSchema}. @since 0.1.0 @category constructors */
export const schemaValidator = (schema: StandardSchemaV1<any, any>): Validator => SchemaInput.fromStandardSchema(schema)

/** The keys of `task` options. @since 0.1.0 @category validation */
export const TASK_KEYS = [...TaskDefinitionModule.SPEC_KEYS, "run", "concurrency"]
/** The keys of `parentTask` options. @since 0.1.0 @category validation */
export const PARENT_TASK_KEYS = [...TaskDefinitionModule.SPEC_KEYS, "runParent", "finalizeTask", "concurrency"]

/** Whether task options are a parent task's (a finalize task may be either kind). */
const isParentOptions = (options: unknown): boolean =>
  typeof options === "object" && options !== null && "runParent" in options

/**
 * Checks `options` of a task of `kind` and builds its definition; throws DurableTaskDefinitionError
 * naming the problem. `registry` is the executor's (a parent's children must be its tasks); `what`
 * names the options in messages (a finalize task's).
 *
 * @since 0.1.0
 * @category constructors
 */
export const buildDefinition = (
  registry: RegistryService,
  options: DurableTaskOptions<any, any> | DurableParentTaskOptions<any, any, any>,
  kind: TaskDefinition["kind"],
  validator: Validator | undefined,
  serializer: ReturnType<typeof Serializer.fromOption>,
  what?: string
): TaskDefinition => {
  const checked = TaskDefinitionModule.makeSpec(options, kind === "parentTask" ? PARENT_TASK_KEYS : TASK_KEYS, what)
  if (Either.isLeft(checked)) throw new DurableTaskDefinitionError(checked.left.message)
  const spec = checked.right
  const notAFunction = TaskDefinitionModule.functionProblem(
    spec.taskId,
    options,
    kind === "parentTask" ? "runParent" : "run"
  )
  if (notAFunction !== undefined) throw new DurableTaskDefinitionError(notAFunction.message)
  const flow = FlowControl.validate(spec.taskId, (options as { concurrency?: unknown }).concurrency)
  if (Either.isLeft(flow)) throw new DurableTaskDefinitionError(flow.left.message)
  const input = validator?.(spec.taskId)
  const common = {
    flow: flow.right,
    id: spec.taskId,
    spec,
    prepareInput: input?.prepareInput ?? Effect.succeed,
    decodeInput: input?.decodeInput ?? Effect.succeed,
    encodeOutput: Effect.succeed,
    decodeOutput: Effect.succeed,
    serializer
  }
  if (kind === "parentTask") {
    const { finalizeTask, runParent } = options as DurableParentTaskOptions<any, any, any>
    const toResult = RunResult.ofParent(spec.taskId, registry)
    return {
      ...common,
      kind: "parentTask",
      run: (info, input) =>
        Effect.flatMap(
          callUser(info, (ctx) => runParent(ctx, input)),
          (result) => Effect.try({ try: () => toResult(result), catch: (e) => e })
        ),
      runPlain: (info, input, cancelSignal) => {
        const result = runParent(contextOf(info, cancelSignal), input)
        return isPromiseLike(result) ? Promise.resolve(result).then(toResult) : toResult(result)
      },
      finalize: finalizeTask === undefined
        ? undefined
        : buildDefinition(
          registry,
          finalizeTask,
          isParentOptions(finalizeTask) ? "parentTask" : "task",
          undefined,
          serializer,
          `finalizeTask options of task '${spec.taskId}'`
        )
    }
  }
  const run = (options as DurableTaskOptions<any, any>).run
  return {
    ...common,
    kind: "task",
    run: (info, input) => Effect.map(callUser(info, (ctx) => run(ctx, input)), RunResult.ofTask),
    runPlain: (info, input, cancelSignal) => {
      const output = run(contextOf(info, cancelSignal), input)
      return isPromiseLike(output) ? Promise.resolve(output).then(RunResult.ofTask) : RunResult.ofTask(output)
    },
    finalize: undefined
  }
}
