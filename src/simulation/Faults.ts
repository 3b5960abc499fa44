/**
 * The fault plan of a run (per-call rates and a timeline of process-level faults) and the
 * injector that draws each decision from the run's seeded generator.
 *
 * @since 0.1.0
 */
import type { Coverage } from "./Coverage.js"
import { Prng } from "./Prng.js"

/** Probabilities per storage call or per wake-up. @since 0.1.0 @category models */
export interface CallFaultRates {
  /** The call fails with a StorageError and writes nothing. */
  readonly storageErrorBeforeWrite: number
  /** The call writes, then fails with a StorageError (the reply was lost). */
  readonly storageErrorAfterWrite: number
  /** The calling process dies before the call reaches storage. */
  readonly crashBeforeWrite: number
  /** The call writes and replies, then the calling process dies before acting on the reply. */
  readonly crashAfterReply: number
  /** The call is delayed by up to `slowCallMaxMs`. */
  readonly slowCall: number
  /** A wake-up is dropped (sent or received). */
  readonly lostWakeup: number
  /** A wake-up is delivered twice. */
  readonly duplicatedWakeup: number
}

/**
 * A process-level fault at a time. `process` picks among the processes alive then (modulo their
 * count, oldest first).
 *
 * @since 0.1.0
 * @category models
 */
export type FaultEvent =
  | { readonly _tag: "Kill"; readonly atMs: number; readonly process: number }
  | { readonly _tag: "Start"; readonly atMs: number }
  | { readonly _tag: "Shutdown"; readonly atMs: number; readonly process: number }
  | { readonly _tag: "Pause"; readonly atMs: number; readonly process: number; readonly forMs: number }
  | { readonly _tag: "ClockJump"; readonly atMs: number; readonly process: number; readonly byMs: number }

/** @since 0.1.0 @category models */
export interface FaultPlan {
  readonly rates: CallFaultRates
  readonly slowCallMaxMs: number
  /** A process that crashed is replaced by a new one after up to this many ms (-1: never). */
  readonly restartAfterCrashMaxMs: number
  readonly events: ReadonlyArray<FaultEvent>
}

/** No faults at all. @since 0.1.0 @category constructors */
export const none: FaultPlan = {
  rates: {
    storageErrorBeforeWrite: 0,
    storageErrorAfterWrite: 0,
    crashBeforeWrite: 0,
    crashAfterReply: 0,
    slowCall: 0,
    lostWakeup: 0,
    duplicatedWakeup: 0
  },
  slowCallMaxMs: 0,
  restartAfterCrashMaxMs: -1,
  events: []
}

/**
 * A random fault plan from a seed, over a fault phase of `phaseMs`: each rate is zero for some
 * seeds and up to a few percent for others, with a handful of kills, starts, shutdowns, pauses and
 * clock jumps.
 *
 * @since 0.1.0
 * @category constructors
 */
export const random = (seed: number, phaseMs: number): FaultPlan => {
  const prng = new Prng(seed ^ 0x5bd1e995)
  const rate = (max: number) => (prng.chance(0.3) ? 0 : prng.next() * max)
  const events: Array<FaultEvent> = []
  const n = prng.int(0, 8)
  for (let i = 0; i < n; i++) {
    const atMs = prng.int(0, phaseMs)
    const process = prng.int(0, 7)
    switch (prng.int(0, 4)) {
      case 0:
        events.push({ _tag: "Kill", atMs, process })
        break
      case 1:
        events.push({ _tag: "Start", atMs })
        break
      case 2:
        events.push({ _tag: "Shutdown", atMs, process })
        break
      case 3:
        events.push({ _tag: "Pause", atMs, process, forMs: prng.int(1_000, 30_000) })
        break
      default:
        events.push({ _tag: "ClockJump", atMs, process, byMs: (prng.chance(0.5) ? 1 : -1) * prng.int(1_000, 60_000) })
    }
  }
  events.sort((a, b) => a.atMs - b.atMs)
  return {
    rates: {
      storageErrorBeforeWrite: rate(0.05),
      storageErrorAfterWrite: rate(0.05),
      crashBeforeWrite: rate(0.004),
      crashAfterReply: rate(0.004),
      slowCall: rate(0.1),
      lostWakeup: rate(0.3),
      duplicatedWakeup: rate(0.3)
    },
    slowCallMaxMs: prng.int(10, 5_000),
    restartAfterCrashMaxMs: prng.int(0, 10_000),
    events
  }
}

/** A decision for one storage call. @since 0.1.0 @category models */
export type StorageFault = "none" | "errorBefore" | "errorAfter" | "crashBefore" | "crashAfter"

/** A decision for one wake-up. @since 0.1.0 @category models */
export type SignalFault = "none" | "lost" | "duplicated"

/**
 * Draws fault decisions from the run's generator; `enabled = false` turns every fault off
 * (the liveness phase).
 *
 * @since 0.1.0
 * @category models
 */
export class FaultInjector {
  enabled = true

  constructor(
    readonly plan: FaultPlan,
    readonly prng: Prng,
    private readonly coverage: Coverage
  ) {}

  /** The fault for one storage call (reads cannot lose a write, so they only fail before or crash). */
  storageFault(mutating: boolean): { readonly fault: StorageFault; readonly slowMs: number } {
    if (!this.enabled) return { fault: "none", slowMs: 0 }
    const r = this.plan.rates
    let slowMs = 0
    if (this.prng.chance(r.slowCall)) {
      slowMs = 1 + Math.floor(this.prng.next() * this.plan.slowCallMaxMs)
      this.coverage.hit("fault:slow storage call")
    }
    if (this.prng.chance(r.crashBeforeWrite)) {
      this.coverage.hit("fault:crash before the write")
      return { fault: "crashBefore", slowMs }
    }
    if (this.prng.chance(r.storageErrorBeforeWrite)) {
      this.coverage.hit("fault:storage error before the write")
      return { fault: "errorBefore", slowMs }
    }
    if (mutating && this.prng.chance(r.storageErrorAfterWrite)) {
      this.coverage.hit("fault:storage error after the write (reply lost)")
      return { fault: "errorAfter", slowMs }
    }
    if (mutating && this.prng.chance(r.crashAfterReply)) {
      this.coverage.hit("fault:crash after the reply")
      return { fault: "crashAfter", slowMs }
    }
    return { fault: "none", slowMs }
  }

  /** The fault for one wake-up. */
  signalFault(): SignalFault {
    if (!this.enabled) return "none"
    if (this.prng.chance(this.plan.rates.lostWakeup)) {
      this.coverage.hit("fault:lost wake-up")
      return "lost"
    }
    if (this.prng.chance(this.plan.rates.duplicatedWakeup)) {
      this.coverage.hit("fault:duplicated wake-up")
      return "duplicated"
    }
    return "none"
  }

  /** A delay before a crashed process is replaced, or undefined for none. */
  restartDelay(): number | undefined {
    if (!this.enabled || this.plan.restartAfterCrashMaxMs < 0) return undefined
    return Math.floor(this.prng.next() * (this.plan.restartAfterCrashMaxMs + 1))
  }
}
