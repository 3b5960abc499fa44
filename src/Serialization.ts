/**
 * Values are stored as JSON text; `undefined` is stored as a null column. Unserializable values and
 * values over the size limit get an {@link UnstorableValue} error that names what and why.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import { UnstorableValue } from "./EngineError.js"

/** @since 0.1.0 @category encoding */
export const encode = (value: unknown, what: string, maxBytes: number): Either.Either<string | null, UnstorableValue> => {
  if (value === undefined) return Either.right(null)
  if (typeof value === "function" || typeof value === "symbol") {
    return Either.left(new UnstorableValue({ what, message: `${what} cannot be stored: a ${typeof value} is not JSON` }))
  }
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch (e) {
    return Either.left(
      new UnstorableValue({ what, message: `${what} cannot be stored as JSON: ${e instanceof Error ? e.message : String(e)}` })
    )
  }
  if (text === undefined) return Either.right(null)
  if (text.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(text, "utf8")
    if (bytes > maxBytes) {
      return Either.left(
        new UnstorableValue({ what, message: `${what} is ${bytes} bytes as JSON, over the limit of ${maxBytes} bytes` })
      )
    }
  }
  return Either.right(text)
}

/** @since 0.1.0 @category decoding */
export const decode = (text: string | null): unknown => (text === null ? undefined : JSON.parse(text))
