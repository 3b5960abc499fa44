import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Runtime from "effect/Runtime"
import { describe, expect, it } from "vitest"
import { makeClock, ProcessScheduler, Timeline } from "../src/simulation/SimulatedTime.js"

const start = (timeline: Timeline, scheduler: ProcessScheduler, effect: Effect.Effect<void>) =>
  Runtime.runFork(Runtime.defaultRuntime, effect, { scheduler, immediate: false })

describe("simulated time", () => {
  it("fires sleeps in time order without real timers, and stops when done", () => {
    const timeline = new Timeline()
    const scheduler = new ProcessScheduler(timeline)
    const clock = makeClock(timeline, { offsetMs: 0 })
    const woke: Array<[string, number]> = []
    for (const [name, ms] of [["c", 30_000], ["a", 10_000], ["b", 20_000]] as const) {
      start(
        timeline,
        scheduler,
        Effect.flatMap(Effect.sleep(ms), () => Effect.sync(() => woke.push([name, timeline.nowMs]))).pipe(
          Effect.withClock(clock)
        )
      )
    }
    const realStart = Date.now()
    expect(timeline.run(() => woke.length === 3, Number.MAX_SAFE_INTEGER)).toBe("done")
    expect(woke).toEqual([["a", 10_000], ["b", 20_000], ["c", 30_000]])
    expect(Date.now() - realStart).toBeLessThan(5_000)
  })

  it("holds a paused process's fibers until it resumes, while others go on", () => {
    const timeline = new Timeline()
    const paused = new ProcessScheduler(timeline)
    const other = new ProcessScheduler(timeline)
    const clock = makeClock(timeline, { offsetMs: 0 })
    const log: Array<string> = []
    start(
      timeline,
      paused,
      Effect.flatMap(Effect.sleep(100), () => Effect.sync(() => log.push(`paused@${timeline.nowMs}`))).pipe(
        Effect.withClock(clock)
      )
    )
    start(
      timeline,
      other,
      Effect.flatMap(Effect.sleep(200), () => Effect.sync(() => log.push(`other@${timeline.nowMs}`))).pipe(
        Effect.withClock(clock)
      )
    )
    timeline.runQueued()
    paused.pause()
    timeline.schedule(500, () => paused.resume())
    timeline.run(() => log.length === 2, Number.MAX_SAFE_INTEGER)
    expect(log).toEqual(["other@200", "paused@500"])
  })

  it("shifts a process's wall clock by its offset, but not its sleeps", () => {
    const timeline = new Timeline()
    const scheduler = new ProcessScheduler(timeline)
    const offset = { offsetMs: 0 }
    const clock = makeClock(timeline, offset)
    const seen: Array<number> = []
    start(
      timeline,
      scheduler,
      Effect.gen(function*() {
        yield* Effect.sleep(1_000)
        seen.push(yield* Clock.currentTimeMillis)
        offset.offsetMs = -60_000
        seen.push(yield* Clock.currentTimeMillis)
        yield* Effect.sleep(1_000)
        seen.push(timeline.nowMs)
      }).pipe(Effect.withClock(clock))
    )
    timeline.run(() => seen.length === 3, Number.MAX_SAFE_INTEGER)
    expect(seen).toEqual([1_000, -59_000, 2_000])
  })

  it("reports a stall when fibers wait for nothing", () => {
    const timeline = new Timeline()
    const scheduler = new ProcessScheduler(timeline)
    start(timeline, scheduler, Effect.async<void>(() => {}))
    expect(timeline.run(() => false, Number.MAX_SAFE_INTEGER)).toBe("stalled")
  })
})
