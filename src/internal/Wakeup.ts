/**
 * A wake-up latch with a version, so a waiter never misses a notify that came after it looked.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"

/** @since 0.1.0 */
export class Wakeup {
  private counter = 0
  private waiters = new Set<() => void>()

  get version(): number {
    return this.counter
  }

  notify(): void {
    this.counter++
    if (this.waiters.size === 0) return
    const waiters = this.waiters
    this.waiters = new Set()
    for (const w of waiters) w()
  }

  /** Returns when notified after `since`, or after `timeoutMs` (Effect Clock). */
  wait(since: number, timeoutMs: number): Effect.Effect<void> {
    if (this.counter !== since) return Effect.void
    const notified = Effect.async<void>((resume) => {
      if (this.counter !== since) return resume(Effect.void)
      const waiter = () => resume(Effect.void)
      this.waiters.add(waiter)
      return Effect.sync(() => {
        this.waiters.delete(waiter)
      })
    })
    return Effect.raceFirst(notified, Effect.sleep(Math.max(0, timeoutMs)))
  }
}
