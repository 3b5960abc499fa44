/**
 * Checks a numeric option: a wrong type is named as a type (`timeoutMs must be a number, got string
 * "1000"`), a number out of range with its range (`must be an integer from 1 to 2147483647, got 0`).
 */
import { describeValue } from "./OptionKeys.js"

/** The range a numeric option must lie in. */
export interface NumberRange {
  readonly min: number
  readonly max: number
  /** Whether the value must be an integer (a finite number otherwise). */
  readonly integer: boolean
}

/** A message naming what is wrong with `value` as the option `name`, or undefined when it is valid. */
export const numberProblem = (name: string, value: unknown, range: NumberRange): string | undefined => {
  if (typeof value !== "number") return `${name} must be a number, got ${describeValue(value)}`
  const inRange = (range.integer ? Number.isInteger(value) : Number.isFinite(value)) && value >= range.min &&
    value <= range.max
  return inRange
    ? undefined
    : `${name} must be ${range.integer ? "an integer" : "a number"} from ${range.min} to ${range.max}, got ${value}`
}
