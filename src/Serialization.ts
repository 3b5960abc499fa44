/**
 * Values are stored as JSON text; `undefined` is stored as a null column. Unserializable values and
 * values over the size limit get an {@link UnstorableValue} error that names what and why.
 *
 * A task may carry a {@link ValueSerializer} (the Promise facade's tasks do): its values are then
 * stored as `{"<key>": "<serialized text>"}`, a marker object that an old plain JSON value is not, so
 * rows written before the serializer existed stay readable (a value that plain JSON restores exactly
 * may still be stored as plain JSON: see {@link ValueSerializer.plainJson}). Engine-made composites (a finalize task's
 * input, a parent's `{ output, childrenOutputs }`) splice stored values, so marker objects may also
 * sit inside a plain JSON object; decoding replaces each of them.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import { UnstorableValue } from "./EngineError.js"

/**
 * How a task's values become text. `serialize` throws (ideally a {@link ValueRefused}) for a value it
 * cannot represent; `readers` decode the stored text of each marker key this serializer reads (its
 * own `key`, and older formats it still reads).
 *
 * @since 0.1.0
 * @category models
 */
export interface ValueSerializer {
  /** The marker key of the values it writes: they are stored as `{"<key>": "<text>"}`. */
  readonly key: string
  readonly serialize: (value: unknown) => string
  readonly readers: Readonly<Record<string, (text: string) => unknown>>
  /**
   * The value's JSON text when plain JSON restores it exactly (it is then stored as it is, without a
   * marker: smaller, faster, and readable by SQL), else undefined.
   */
  readonly plainJson?: ((value: unknown) => string | undefined) | undefined
}

/**
 * Thrown by {@link ValueSerializer.serialize} for a value it cannot represent: `path` is where the
 * value sits, relative to the root (`.items[3].callback`, or `""` for the root itself), and `reason`
 * what it is (`a function`).
 *
 * @since 0.1.0
 * @category errors
 */
export class ValueRefused extends Error {
  constructor(readonly path: string, readonly reason: string) {
    super(`${path === "" ? "the value" : path} is ${reason}`)
    this.name = "ValueRefused"
  }
}

/**
 * Thrown when a stored value cannot be decoded (its serializer is not this task's, or its text is
 * corrupt). Not retryable: another attempt reads the same text.
 *
 * @since 0.1.0
 * @category errors
 */
export class UndecodableValue extends Error {
  readonly isRetryable = false
  constructor(message: string) {
    super(message)
    this.name = "UndecodableValue"
  }
}

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e))

const tooLarge = (text: string, maxBytes: number): number | undefined => {
  if (text.length * 3 <= maxBytes) return undefined
  const bytes = Buffer.byteLength(text, "utf8")
  return bytes > maxBytes ? bytes : undefined
}

/**
 * The value's JSON text to store (null for `undefined`). With a `serializer`, the size limit applies
 * to the serialized text, and a refused value is named by its path: `what` starts with the name of the
 * value's root (`input of task 'a'` → `input.items[3].callback`).
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode = (
  value: unknown,
  what: string,
  maxBytes: number,
  serializer?: ValueSerializer | undefined
): Either.Either<string | null, UnstorableValue> => {
  if (value === undefined) return Either.right(null)
  if (serializer !== undefined) return encodeWith(serializer, value, what, maxBytes)
  if (typeof value === "function" || typeof value === "symbol") {
    const message = `${what} cannot be stored: a ${typeof value} is not JSON`
    return Either.left(new UnstorableValue({ what, message }))
  }
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch (e) {
    return Either.left(new UnstorableValue({ what, message: `${what} cannot be stored as JSON: ${messageOf(e)}` }))
  }
  if (text === undefined) return Either.right(null)
  const bytes = tooLarge(text, maxBytes)
  if (bytes !== undefined) {
    return Either.left(
      new UnstorableValue({ what, message: `${what} is ${bytes} bytes as JSON, over the limit of ${maxBytes} bytes` })
    )
  }
  return Either.right(text)
}

const encodeWith = (
  serializer: ValueSerializer,
  value: unknown,
  what: string,
  maxBytes: number
): Either.Either<string, UnstorableValue> => {
  // The root's name only on a failure: splitting `what` on every value flattens and allocates.
  const rootOf = () => what.split(" ", 1)[0]!
  const plain = serializer.plainJson?.(value)
  if (plain !== undefined) {
    const bytes = tooLarge(plain, maxBytes)
    if (bytes === undefined) return Either.right(plain)
    const message = `${what} is ${bytes} bytes serialized, over the limit of ${maxBytes} bytes`
    return Either.left(new UnstorableValue({ what, path: rootOf(), message }))
  }
  let text: unknown
  try {
    text = serializer.serialize(value)
  } catch (e) {
    const relative = typeof (e as { path?: unknown })?.path === "string" ? (e as { path: string }).path : ""
    const path = rootOf() + relative
    const message = e instanceof ValueRefused
      ? `${what} cannot be stored: ${path} is ${e.reason}`
      : `${what} cannot be serialized${relative === "" ? "" : ` (at ${path})`}: ${messageOf(e)}`
    return Either.left(new UnstorableValue({ what, path, message }))
  }
  if (typeof text !== "string") {
    const message = `${what} cannot be stored: the serializer returned ${typeof text}, not a string`
    return Either.left(new UnstorableValue({ what, path: rootOf(), message }))
  }
  const bytes = tooLarge(text, maxBytes)
  if (bytes !== undefined) {
    const message = `${what} is ${bytes} bytes serialized, over the limit of ${maxBytes} bytes`
    return Either.left(new UnstorableValue({ what, path: rootOf(), message }))
  }
  return Either.right(`{${JSON.stringify(serializer.key)}:${JSON.stringify(text)}}`)
}

/**
 * The value of stored JSON text (undefined for a null column). With a `serializer`, marker objects
 * (at the root or inside an engine-made composite) are decoded by its readers; a plain JSON value
 * (written before the serializer existed, or by a task without one) is returned as it is. Throws
 * {@link UndecodableValue} for a marker this serializer cannot read.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode = (text: string | null, serializer?: ValueSerializer | undefined): unknown => {
  if (text === null) return undefined
  const json: unknown = JSON.parse(text)
  if (serializer === undefined || !text.includes(MARKER_PREFIX)) return json
  return revive(json, serializer)
}

/**
 * Like {@link decode}, but a value that cannot be decoded is returned as its stored JSON: for views
 * of an execution (`getExecution`), which must not fail because one value is unreadable.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeOrStored = (text: string | null, serializer?: ValueSerializer | undefined): unknown => {
  try {
    return decode(text, serializer)
  } catch {
    return text === null ? undefined : safeParse(text)
  }
}

const safeParse = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/**
 * Every marker key starts with this: a stored text without it holds no marker, and is plain JSON.
 *
 * @since 0.1.0
 * @category encoding
 */
export const MARKER_PREFIX = "\"~durable-tasks:"

const markerOf = (json: object): string | undefined => {
  let key: string | undefined
  for (const k in json) {
    if (key !== undefined) return undefined
    key = k
  }
  return key !== undefined && key.startsWith("~durable-tasks:") &&
      typeof (json as Record<string, unknown>)[key] === "string"
    ? key
    : undefined
}

const revive = (json: unknown, serializer: ValueSerializer): unknown => {
  if (typeof json !== "object" || json === null) return json
  if (Array.isArray(json)) {
    for (let i = 0; i < json.length; i++) json[i] = revive(json[i], serializer)
    return json
  }
  const key = markerOf(json)
  if (key === undefined) {
    const record = json as Record<string, unknown>
    for (const k of Object.keys(record)) {
      const value = record[k]
      const revived = revive(value, serializer)
      // defineProperty: a JSON key "__proto__" is an own property, which an assignment would not set.
      if (revived !== value) {
        Object.defineProperty(record, k, { value: revived, writable: true, enumerable: true, configurable: true })
      }
    }
    return record
  }
  const reader = serializer.readers[key]
  if (reader === undefined) {
    throw new UndecodableValue(
      `a stored value was written by another serializer ('${key}'), which this task does not read`
    )
  }
  try {
    return reader((json as Record<string, string>)[key]!)
  } catch (e) {
    throw new UndecodableValue(`a stored value cannot be deserialized: ${messageOf(e)}`)
  }
}
