/**
 * How every long-running loop of the executor runs: one step at a time, and a failure of any kind
 * in a step — a typed storage error or a defect — is logged with the loop's name and followed by a
 * pause, so that a loop never ends silently (a claim loop that died would leave the executor never
 * claiming again, with no log). Only interruption or the step's own `false` ends it.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"

/**
 * Runs `step` until it returns `false` or the fiber is interrupted. After a failed step, logs the
 * cause (annotated `loop: name`) and waits `pauseAfterFailureMs` before the next step.
 *
 * @since 0.1.0
 */
export const run = <E>(
  name: string,
  step: Effect.Effect<boolean, E>,
  pauseAfterFailureMs: number
): Effect.Effect<void> => {
  const message = `durable-tasks: the ${name} loop failed; it goes on after ${pauseAfterFailureMs} ms`
  const supervised: Effect.Effect<boolean> = Effect.catchAllCause(step, (cause) =>
    Cause.isInterruptedOnly(cause)
      ? Effect.failCause(cause as Cause.Cause<never>)
      : Effect.as(Effect.zipRight(Effect.logError(message, cause), Effect.sleep(pauseAfterFailureMs)), true))
  return Effect.gen(function*() {
    while (yield* supervised) {
      // every step decides for itself when it waits
    }
  }).pipe(Effect.annotateLogs("loop", name))
}
