/**
 * The one way tests wait on real time: `sleep` for a pause that is itself the point of the test,
 * and `eventually` for waiting until something happened, with a bound instead of a fixed pause.
 */

/** Resolves after `ms` real milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Bounds for {@link eventually}. */
export interface EventuallyOptions {
  /** Give up (and reject) after this many ms. Default 5,000. */
  readonly timeoutMs?: number
  /** Pause between checks. Default 5 ms. */
  readonly intervalMs?: number
  /** Named in the error when the condition never holds. */
  readonly what?: string
}

/**
 * Re-checks `condition` every `intervalMs` until it returns true; rejects, naming `what`, once
 * `timeoutMs` passed without it holding. Errors thrown by `condition` reject at once.
 */
export const eventually = async (
  condition: () => boolean | Promise<boolean>,
  options: EventuallyOptions = {}
): Promise<void> => {
  const timeoutMs = options.timeoutMs ?? 5_000
  const intervalMs = options.intervalMs ?? 5
  const deadline = performance.now() + timeoutMs
  while (!(await condition())) {
    if (performance.now() > deadline) {
      const what = options.what !== undefined ? `: ${options.what}` : ""
      throw new Error(`condition not met within ${timeoutMs} ms${what}`)
    }
    await sleep(intervalMs)
  }
}
