/**
 * How the Promise facade stores task inputs and outputs: the `serializer` option of
 * `DurableExecutor`, and its lossless default built on [devalue](https://github.com/sveltejs/devalue).
 *
 * The default keeps `Date` (also an invalid one), `Map`, `Set`, `BigInt`, `undefined`, `NaN`,
 * `±Infinity`, `-0`, `RegExp`, `URL`, `URLSearchParams`, typed arrays, `ArrayBuffer`, `DataView`,
 * `Buffer`, the built-in `Error` classes (message, stack, cause, own properties), sparse arrays,
 * repeated and circular references. It refuses, naming the path, what it cannot restore: functions,
 * symbols, promises, `WeakMap`s and instances of other classes. A value that plain JSON restores
 * exactly (strings, finite numbers, booleans, null, plain objects and arrays of them) is stored as
 * plain JSON, as before this serializer existed.
 *
 * @since 0.1.0
 */
import * as devalue from "devalue"
import { describeValue } from "../internal/OptionKeys.js"
import * as Serialization from "../Serialization.js"
import { DurableExecutorOptionsError } from "./errors.js"
import { plainJson } from "./PlainJson.js"

/**
 * The `serializer` option: turns a value into text and back. `serialize` throws for a value it cannot
 * represent (the input is then refused at enqueue, an output fails its execution).
 *
 * @since 0.1.0
 * @category models
 */
export interface DurableSerializer {
  serialize(value: unknown): string
  deserialize(text: string): unknown
}

/** The marker key of values written by the default serializer. @since 0.1.0 @category encoding */
export const DEFAULT_KEY = "~durable-tasks:devalue"
/** The marker key of values written by a `serializer` given as an option. @since 0.1.0 @category encoding */
export const CUSTOM_KEY = "~durable-tasks:custom"

const ERROR_CLASSES: Readonly<Record<string, ErrorConstructor | AggregateErrorConstructor>> = {
  Error,
  EvalError,
  RangeError,
  ReferenceError,
  SyntaxError,
  TypeError,
  URIError,
  AggregateError
}

interface StoredError {
  readonly type: string
  readonly message?: string | undefined
  readonly stack?: string | undefined
  readonly props: Record<string, unknown>
  readonly cause?: unknown
  readonly errors?: unknown
}

/** The class name of a built-in error, or undefined for a subclass (refused: its class cannot be restored). */
const builtinErrorType = (value: Error): string | undefined => {
  const proto = Object.getPrototypeOf(value)
  for (const type in ERROR_CLASSES) if (ERROR_CLASSES[type]!.prototype === proto) return type
  return undefined
}

/** An own property that is not enumerable (`cause` and `errors` as their constructors set them). */
const hiddenOwn = (value: object, key: string): boolean =>
  Object.getOwnPropertyDescriptor(value, key)?.enumerable === false

const reduceError = (value: unknown): StoredError | false => {
  if (!(value instanceof Error)) return false
  const type = builtinErrorType(value)
  if (type === undefined) return false
  const stored: { -readonly [K in keyof StoredError]: StoredError[K] } = { type, props: { ...value } }
  if (Object.hasOwn(value, "message")) stored.message = value.message
  if (Object.hasOwn(value, "stack")) stored.stack = value.stack
  if (hiddenOwn(value, "cause")) stored.cause = (value as { cause?: unknown }).cause
  if (hiddenOwn(value, "errors")) stored.errors = (value as { errors?: unknown }).errors
  return stored
}

const hidden = (target: object, key: string, value: unknown): void => {
  Object.defineProperty(target, key, { value, writable: true, enumerable: false, configurable: true })
}

const reviveError = (stored: StoredError): Error => {
  const error: Error = stored.type === "AggregateError"
    ? new AggregateError([])
    : new ((ERROR_CLASSES[stored.type] ?? Error) as ErrorConstructor)()
  for (const key of ["message", "stack", "cause", "errors"] as const) {
    if (key in stored) hidden(error, key, stored[key])
    else delete (error as unknown as Record<string, unknown>)[key]
  }
  return Object.assign(error, stored.props)
}

const reducers = {
  // An array, so that an empty Buffer (base64 "") still counts as a match.
  "dt.Buffer": (value: unknown) => Buffer.isBuffer(value) && [value.toString("base64")],
  "dt.Error": reduceError
}

const revivers = {
  "dt.Buffer": ([base64]: [string]) => Buffer.from(base64, "base64"),
  "dt.Error": reviveError
}

const className = (value: object): string | undefined => {
  const ctor = (Object.getPrototypeOf(value) as { constructor?: unknown } | null)?.constructor
  return typeof ctor === "function" && ctor.name !== "" ? ctor.name : undefined
}

/** What devalue refused, in words (`a function`, `an instance of class Foo (…)`). */
const reasonFor = (error: devalue.DevalueError): string => {
  const value: unknown = (error as { value?: unknown }).value
  if (error.message.includes("symbolic keys")) return "an object with symbol keys"
  if (error.message.includes("__proto__")) return "an object with a '__proto__' key"
  if (typeof value === "function") return "a function"
  if (typeof value === "symbol") return "a symbol"
  if (typeof value !== "object" || value === null) return describeValue(value)
  if (typeof (value as { then?: unknown }).then === "function") return "a Promise (store its result instead)"
  const name = className(value)
  if (name === undefined) return "an object with a custom prototype (store a plain object instead)"
  if (value instanceof Error) return `an instance of class ${name} (only the built-in Error classes can be restored)`
  if (name.startsWith("Weak")) return `a ${name}`
  return `an instance of class ${name} (its class cannot be restored: store a plain object instead)`
}

/**
 * The default serializer: lossless for the types listed in this module's description, and refusing
 * (with a {@link Serialization.ValueRefused} naming the path) what it cannot restore.
 *
 * @since 0.1.0
 * @category serializers
 */
export const defaultSerializer: DurableSerializer = {
  serialize: (value) => {
    try {
      return devalue.stringify(value, reducers)
    } catch (e) {
      if (e instanceof devalue.DevalueError) throw new Serialization.ValueRefused(e.path, reasonFor(e))
      throw e
    }
  },
  deserialize: (text) => devalue.parse(text, revivers)
}

/** As stored: a value plain JSON restores exactly is stored as plain JSON, anything else as devalue text. */
const defaultStorage: Serialization.ValueSerializer = {
  key: DEFAULT_KEY,
  serialize: defaultSerializer.serialize,
  readers: { [DEFAULT_KEY]: defaultSerializer.deserialize },
  plainJson
}

/**
 * The engine's serializer for the facade's `serializer` option: the default when it is undefined.
 * A serializer given as an option still reads values the default wrote. Throws
 * `DurableExecutorOptionsError` when the option is not a serializer.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromOption = (option: unknown): Serialization.ValueSerializer => {
  if (option === undefined) return defaultStorage
  if (typeof option !== "object" || option === null) {
    throw new DurableExecutorOptionsError(
      `invalid executor options: serializer must be an object with serialize and deserialize functions, got ${
        describeValue(option)
      }`
    )
  }
  const { serialize, deserialize } = option as Partial<DurableSerializer>
  for (const [name, fn] of [["serialize", serialize], ["deserialize", deserialize]] as const) {
    if (typeof fn !== "function") {
      throw new DurableExecutorOptionsError(
        `invalid executor options: serializer.${name} must be a function, got ${describeValue(fn)}`
      )
    }
  }
  if (option === defaultSerializer) return defaultStorage
  const custom = option as DurableSerializer
  return {
    key: CUSTOM_KEY,
    serialize: (value) => custom.serialize(value),
    readers: { [CUSTOM_KEY]: (text) => custom.deserialize(text), [DEFAULT_KEY]: defaultSerializer.deserialize }
  }
}
