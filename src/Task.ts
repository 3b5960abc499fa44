/**
 * Task definitions for Effect apps: `run` returns an `Effect`, input and output are described with
 * `effect/Schema` (stored encoded, so Dates, BigInts and other Schema types round-trip).
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type { TaskLike } from "./DurableExecutor.js"
import { InvalidTaskDefinition, InvalidTaskInput } from "./EngineError.js"
import type { ExecutionRef, TaskSpec } from "./ExecutionRow.js"
import { describeValue } from "./internal/OptionKeys.js"
import * as LoopingModule from "./Looping.js"
import type { RetryOptions } from "./RetryOptions.js"
import * as SleepingModule from "./Sleeping.js"
import type { RunInfo, RunResult, TaskDefinition } from "./TaskDefinition.js"
import * as TaskDefinitionModule from "./TaskDefinition.js"

/**
 * Fail a run with this error to choose whether it is retried (any other failure is retryable).
 *
 * @since 0.1.0
 * @category errors
 */
export class TaskRunError extends Data.TaggedError("TaskRunError")<{
  readonly message: string
  readonly isRetryable: boolean
}> {}

/** A task whose input is `I` and whose final output is `O`. @since 0.1.0 @category models */
export interface Task<in I, out O> extends TaskLike<I, O> {}

/** A child a parent run asks for. @since 0.1.0 @category models */
export interface Child {
  readonly task: Task<any, any>
  readonly input: unknown
}

/** Asks for `task` to run as a child with `input`. @since 0.1.0 @category constructors */
export const child = <I>(task: Task<I, any>, input: I): Child => ({ task, input })

/** One child's output, as a finalize task receives it. @since 0.1.0 @category models */
export interface ChildOutput extends ExecutionRef {
  readonly output: unknown
}

/** What a finalize task receives. @since 0.1.0 @category models */
export interface FinalizeInput<I, R> {
  readonly input: I
  readonly output: R
  readonly childrenTasksOutputs: ReadonlyArray<ChildOutput>
}

/** Settings shared by every kind of task. @since 0.1.0 @category models */
export interface CommonOptions {
  readonly id: string
  readonly timeoutMs: number
  readonly retryOptions?: Partial<RetryOptions>
  readonly sleepMsBeforeRun?: number
}

/** @since 0.1.0 @category models */
export interface TaskOptions<I, O, E, IE, OE> extends CommonOptions {
  readonly input?: Schema.Schema<I, IE>
  readonly output?: Schema.Schema<O, OE>
  readonly run: (input: I, info: RunInfo) => Effect.Effect<O, E>
}

/**
 * A finalize task: a plain task, or a parent task, whose input is the parent's result. @since 0.1.0 @category models
 */
export type FinalizeOptions<I, R, O> =
  | (CommonOptions & {
    readonly output?: Schema.Schema<O, any>
    readonly run: (input: FinalizeInput<I, R>, info: RunInfo) => Effect.Effect<O, unknown>
  })
  | (CommonOptions & {
    readonly runParent: (
      input: FinalizeInput<I, R>,
      info: RunInfo
    ) => Effect.Effect<{ readonly output: any; readonly children?: ReadonlyArray<Child> }, unknown>
    readonly finalize?: FinalizeOptions<FinalizeInput<I, R>, any, O>
  })

/** @since 0.1.0 @category models */
export interface ParentOptions<I, R, O, E, IE, RE> extends CommonOptions {
  readonly input?: Schema.Schema<I, IE>
  /** Schema of the `output` that `runParent` returns. */
  readonly runOutput?: Schema.Schema<R, RE>
  readonly runParent: (
    input: I,
    info: RunInfo
  ) => Effect.Effect<{ readonly output: R; readonly children?: ReadonlyArray<Child> }, E>
  readonly finalize?: FinalizeOptions<I, R, O>
}

interface Codec {
  readonly encode: (value: unknown) => Effect.Effect<unknown, unknown>
  readonly decode: (stored: unknown) => Effect.Effect<unknown, unknown>
}

const identity: Codec = { encode: Effect.succeed, decode: Effect.succeed }

const codecOf = (schema: Schema.Schema<any, any> | undefined): Codec =>
  schema === undefined
    ? identity
    : {
      encode: Schema.encodeUnknown(schema) as Codec["encode"],
      decode: Schema.decodeUnknown(schema) as Codec["decode"]
    }

const inputPreparer = (id: string, schema: Schema.Schema<any, any> | undefined) =>
  schema === undefined
    ? Effect.succeed
    : (input: unknown) =>
      Effect.mapError(
        Schema.encodeUnknown(schema)(input),
        (e) => new InvalidTaskInput({ taskId: id, message: ParseResult.TreeFormatter.formatErrorSync(e), cause: e })
      )

const orThrow = <A, E>(either: Either.Either<A, E>): A => {
  if (Either.isLeft(either)) throw either.left
  return either.right
}

const { SPEC_KEYS } = TaskDefinitionModule
const MAKE_KEYS = [...SPEC_KEYS, "input", "output", "run"]
const PARENT_KEYS = [...SPEC_KEYS, "input", "runOutput", "runParent", "finalize"]
const FINALIZE_KEYS = [...SPEC_KEYS, "output", "run"]
const FINALIZE_PARENT_KEYS = [...SPEC_KEYS, "runParent", "finalize"]

/**
 * Checks options of one task kind (only `keys`, `run` or `runParent` a function, each of `schemas`
 * absent or a Schema) and builds their spec; throws InvalidTaskDefinition naming the problem.
 */
const specOf = (
  options: unknown,
  kind: { readonly keys: ReadonlyArray<string>; readonly run: string; readonly schemas: ReadonlyArray<string> },
  what?: string
): TaskSpec => {
  const spec = orThrow(TaskDefinitionModule.makeSpec(options, kind.keys, what))
  const given = options as Record<string, unknown>
  const notAFunction = TaskDefinitionModule.functionProblem(spec.taskId, given, kind.run)
  if (notAFunction !== undefined) throw notAFunction
  for (const name of kind.schemas) {
    if (given[name] !== undefined && !Schema.isSchema(given[name])) {
      throw new InvalidTaskDefinition({
        taskId: spec.taskId,
        message: `task '${spec.taskId}': ${name} must be an effect Schema, got ${describeValue(given[name])}`
      })
    }
  }
  return spec
}

const isParentOptions = <O extends object>(options: O): options is Extract<O, { readonly runParent: unknown }> =>
  typeof options === "object" && options !== null && "runParent" in options

/** The finalize task's input codec: the parent's input and run output decoded with the parent's codecs. */
const finalizeInputCodec = (parentInput: Codec, parentRunOutput: Codec): Codec => ({
  encode: Effect.succeed,
  decode: (stored) =>
    Effect.gen(function*() {
      const raw = stored as { input?: unknown; output?: unknown; childrenTasksOutputs?: ReadonlyArray<ChildOutput> }
      return {
        input: yield* parentInput.decode(raw.input),
        output: yield* parentRunOutput.decode(raw.output),
        childrenTasksOutputs: raw.childrenTasksOutputs ?? []
      }
    })
})

const toRunResult = (
  result: { readonly output: unknown; readonly children?: ReadonlyArray<Child> | undefined }
): RunResult => ({
  output: result.output,
  children: (result.children ?? []).map((c) => ({ task: c.task.definition, input: c.input }))
})

const buildFinalize = (
  parentId: string,
  options: FinalizeOptions<any, any, any>,
  inputCodec: Codec
): TaskDefinition => {
  const what = `finalize options of task '${parentId}'`
  if (!isParentOptions(options)) {
    const spec = specOf(options, { keys: FINALIZE_KEYS, run: "run", schemas: ["output"] }, what)
    const output = codecOf(options.output)
    return {
      id: options.id,
      kind: "task",
      spec,
      prepareInput: Effect.succeed,
      decodeInput: inputCodec.decode,
      encodeOutput: output.encode,
      decodeOutput: output.decode,
      run: (info, input) =>
        Effect.map(options.run(input as FinalizeInput<any, any>, info), (output) => ({ output, children: [] })),
      finalize: undefined
    }
  }
  const spec = specOf(options, { keys: FINALIZE_PARENT_KEYS, run: "runParent", schemas: [] }, what)
  return {
    id: options.id,
    kind: "parentTask",
    spec,
    prepareInput: Effect.succeed,
    decodeInput: inputCodec.decode,
    encodeOutput: identity.encode,
    decodeOutput: identity.decode,
    run: (info, input) => Effect.map(options.runParent(input as FinalizeInput<any, any>, info), toRunResult),
    finalize: options.finalize === undefined
      ? undefined
      : buildFinalize(options.id, options.finalize, finalizeInputCodec(inputCodec, identity))
  }
}

/**
 * A plain task. Throws `InvalidTaskDefinition` for bad options: an unknown key (named with the
 * nearest known one), a bad id, timeout, retry options or sleep, a `run` that is not a function, an
 * `input` or `output` that is not a Schema.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <I = unknown, O = unknown, E = never, IE = I, OE = O>(
  options: TaskOptions<I, O, E, IE, OE>
): Task<I, O> => {
  const spec = specOf(options, { keys: MAKE_KEYS, run: "run", schemas: ["input", "output"] })
  const input = codecOf(options.input)
  const output = codecOf(options.output)
  const definition: TaskDefinition = {
    id: options.id,
    kind: "task",
    spec,
    prepareInput: inputPreparer(options.id, options.input),
    decodeInput: input.decode,
    encodeOutput: output.encode,
    decodeOutput: output.decode,
    run: (info, value) => Effect.map(options.run(value as I, info), (out) => ({ output: out, children: [] })),
    finalize: undefined
  }
  return { id: options.id, definition }
}

/**
 * A parent task: `runParent` returns an output and children that run in parallel; then the
 * optional finalize task runs. Without a finalize task the output is `{ output, childrenOutputs }`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const parent = <
  I = unknown,
  R = unknown,
  O = { readonly output: R; readonly childrenOutputs: ReadonlyArray<ChildOutput> },
  E = never,
  IE = I,
  RE = R
>(
  options: ParentOptions<I, R, O, E, IE, RE>
): Task<I, O> => {
  const spec = specOf(options, { keys: PARENT_KEYS, run: "runParent", schemas: ["input", "runOutput"] })
  const input = codecOf(options.input)
  const runOutput = codecOf(options.runOutput)
  const definition: TaskDefinition = {
    id: options.id,
    kind: "parentTask",
    spec,
    prepareInput: inputPreparer(options.id, options.input),
    decodeInput: input.decode,
    encodeOutput: runOutput.encode,
    decodeOutput: runOutput.decode,
    run: (info, value) => Effect.map(options.runParent(value as I, info), toRunResult),
    finalize: options.finalize === undefined
      ? undefined
      : buildFinalize(options.id, options.finalize, finalizeInputCodec(input, runOutput))
  }
  return { id: options.id, definition }
}

/** @since 0.1.0 @category models */
export interface SleepingOptions<O, OE> {
  readonly id: string
  /** How long an execution sleeps before it ends `timed_out` if no wakeup came. */
  readonly timeoutMs: number
  /** Schema of the output a wakeup gives. */
  readonly output?: Schema.Schema<O, OE>
}

/**
 * A sleeping task (README "Sleeping tasks"): its input is the id a wakeup names; no executor runs
 * it. `DurableExecutor.wakeup(task, id, { status: "completed", output })` ends it (once), or it ends
 * `timed_out` after `timeoutMs`. Throws `InvalidTaskDefinition` for bad options.
 *
 * @since 0.1.0
 * @category constructors
 */
export const sleeping = <O = unknown, OE = O>(options: SleepingOptions<O, OE>): Task<string, O> => {
  if (options !== null && typeof options === "object" && options.output !== undefined) {
    if (!Schema.isSchema(options.output)) {
      throw new InvalidTaskDefinition({
        taskId: String(options.id),
        message: `task '${String(options.id)}': output must be an effect Schema, got ${describeValue(options.output)}`
      })
    }
  }
  const output = codecOf(options?.output)
  const definition = orThrow(SleepingModule.makeDefinition({
    id: options?.id,
    timeoutMs: options?.timeoutMs,
    encodeOutput: output.encode,
    decodeOutput: output.decode
  }))
  return { id: definition.id, definition }
}

/** @since 0.1.0 @category models */
export interface LoopingOptions<I, O> {
  readonly id: string
  /** Runs until it outputs `{ isDone: true, output }`. */
  readonly iteration: Task<I, { readonly isDone: boolean; readonly output?: O }>
  readonly maxAttempts: number
  readonly sleepMsBetweenIterations: number
}

/** A looping task's output. @since 0.1.0 @category models */
export type LoopingOutput<O> = { readonly isSuccess: true; readonly output: O } | { readonly isSuccess: false }

/**
 * A looping task (README "Looping tasks"): runs `iteration` until it outputs `{ isDone: true,
 * output }`, at most `maxAttempts` times, sleeping durably between iterations; one execution whose
 * children are the iterations, one after the other. Throws `InvalidTaskDefinition` for bad options.
 *
 * @since 0.1.0
 * @category constructors
 */
export const looping = <I, O>(options: LoopingOptions<I, O>): Task<I, LoopingOutput<O>> => {
  const definition = orThrow(LoopingModule.makeDefinition({
    id: options?.id,
    iteration: options?.iteration?.definition,
    maxAttempts: options?.maxAttempts,
    sleepMsBetweenIterations: options?.sleepMsBetweenIterations
  }))
  return { id: definition.id, definition }
}
