/**
 * The facade's error for a call that failed with a defect (a bug): its message, never an Effect
 * internal.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import { DurableExecutionError } from "./errors.js"

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/** @since 0.1.0 @category utils */
export const defectError = (cause: Cause.Cause<unknown>): Error => {
  const defect = Cause.squash(cause)
  return defect instanceof DurableExecutionError
    ? defect
    : new DurableExecutionError(`unexpected error in the durable executor: ${messageOf(defect)}`)
}
