/**
 * Run timeouts: one loop keeps the deadline of every running execution (rather than a timer and two
 * racing fibers per run) and interrupts the runs that outlive their timeout; their runner then
 * records a timed-out attempt. Time is the Effect Clock's, so TestClock drives it in tests.
 *
 * Measured with `node --cpu-prof` on the bench's flat scenario (commit 4df1382): `Effect.timeoutFail`
 * per run cost ~100 µs with many runs alive (two forked fibers and a timer each); this loop's heap
 * push and settle cost well under 1 µs per run.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type { RunningExecution } from "./ExecutorState.js"
import { Heap } from "./Heap.js"
import * as Loop from "./Loop.js"
import { Wakeup } from "./Wakeup.js"

/** @since 0.1.0 @category models */
export class RunTimeouts {
  private readonly heap = new Heap<RunningExecution>()
  private readonly wakeup = new Wakeup()
  private seq = 0
  /** When the loop wakes next (infinity while it waits for a first deadline). */
  private plannedMs = Number.POSITIVE_INFINITY
  /** Settled runs whose entry is still in the heap; the heap is compacted when they dominate it. */
  private stale = 0

  /** Starts watching `entry`'s deadline. */
  add(entry: RunningExecution): void {
    this.heap.push({ key: entry.deadlineMs, seq: this.seq++, value: entry })
    if (entry.deadlineMs < this.plannedMs) this.wakeup.notify()
  }

  /** Stops watching `entry`: its run ended. */
  settle(entry: RunningExecution): void {
    if (entry.settled) return
    entry.settled = true
    this.stale++
    if (this.stale > 1024 && this.stale * 2 > this.heap.size) {
      this.heap.retain((e) => !e.value.settled)
      this.stale = 0
    }
  }

  /** The loop: interrupts runs past their deadline, then sleeps until the next deadline. */
  readonly run: Effect.Effect<void> = Loop.run(
    "run timeouts",
    Effect.gen(this, function*() {
      const version = this.wakeup.version
      const nowMs = yield* Clock.currentTimeMillis
      const expired: Array<RunningExecution> = []
      for (let top = this.heap.peek(); top !== undefined; top = this.heap.peek()) {
        const entry = top.value
        if (entry.settled) {
          this.heap.pop()
          this.stale = Math.max(0, this.stale - 1)
          continue
        }
        if (top.key > nowMs) break
        this.heap.pop()
        entry.settled = true
        entry.timedOut = true
        expired.push(entry)
      }
      if (expired.length > 0) yield* Effect.forEach(expired, (entry) => entry.interruptFork(), { discard: true })
      const next = this.heap.peek()
      this.plannedMs = next?.key ?? Number.POSITIVE_INFINITY
      yield* next === undefined ? this.wakeup.waitNotified(version) : this.wakeup.wait(version, next.key - nowMs)
      return true
    }),
    100
  )
}
