/**
 * Coverage: how often each fault kind and each planner transition happened in a run, and over
 * many runs, the share of seeds that hit each one (a default run fails when one is under 1%).
 *
 * @since 0.1.0
 */

/** Every fault kind the simulator injects. @since 0.1.0 @category models */
export const FAULT_KINDS = [
  "fault:storage error before the write",
  "fault:storage error after the write (reply lost)",
  "fault:crash before the write",
  "fault:crash after the reply",
  "fault:slow storage call",
  "fault:lost wake-up",
  "fault:duplicated wake-up",
  "fault:process killed",
  "fault:process started",
  "fault:graceful shutdown",
  "fault:process paused",
  "fault:runner paused past its lease",
  "fault:clock jump forward",
  "fault:clock jump back",
  "workload:user cancel"
] as const

/** Every planner transition (status → status, with its cause where it has several). @since 0.1.0 @category models */
export const TRANSITIONS = [
  "insert:root",
  "insert:child",
  "insert:finalize",
  "ready→running",
  "ready→cancelled",
  "running→completed",
  "running→waiting_for_children_tasks",
  "running→waiting_for_finalize_task",
  "running→ready (retry)",
  "running→ready (lease expired)",
  "running→ready (released)",
  "running→failed",
  "running→timed_out (run timed out)",
  "running→timed_out (lease expired)",
  "running→cancelled",
  "waiting_for_children_tasks→waiting_for_finalize_task",
  "waiting_for_children_tasks→completed",
  "waiting_for_children_tasks→children_tasks_failed",
  "waiting_for_children_tasks→cancelled",
  "waiting_for_finalize_task→completed",
  "waiting_for_finalize_task→finalize_task_failed",
  "waiting_for_finalize_task→cancelled",
  "fence:stale write rejected"
] as const

/** Everything a default run must hit: fault kinds and transitions. @since 0.1.0 @category models */
export const REQUIRED: ReadonlyArray<string> = [...FAULT_KINDS, ...TRANSITIONS]

/** Counts of one run. @since 0.1.0 @category models */
export class Coverage {
  readonly counts = new Map<string, number>()

  hit(key: string, n = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + n)
  }

  get(key: string): number {
    return this.counts.get(key) ?? 0
  }

  toRecord(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  }
}

/** A {@link CoverageSummary} as plain data. @since 0.1.0 @category models */
export interface CoverageSnapshot {
  readonly seeds: number
  readonly seedsWith: Readonly<Record<string, number>>
  readonly totals: Readonly<Record<string, number>>
}

/** Coverage over many runs. @since 0.1.0 @category models */
export class CoverageSummary {
  seeds = 0
  private readonly seedsWith = new Map<string, number>()
  private readonly totals = new Map<string, number>()

  add(counts: Readonly<Record<string, number>>): void {
    this.seeds++
    for (const [key, n] of Object.entries(counts)) {
      if (n <= 0) continue
      this.seedsWith.set(key, (this.seedsWith.get(key) ?? 0) + 1)
      this.totals.set(key, (this.totals.get(key) ?? 0) + n)
    }
  }

  /** A plain copy, to send to another process. */
  snapshot(): CoverageSnapshot {
    return { seeds: this.seeds, seedsWith: Object.fromEntries(this.seedsWith), totals: Object.fromEntries(this.totals) }
  }

  /** Adds another summary's seeds (from another process). */
  merge(other: CoverageSnapshot): void {
    this.seeds += other.seeds
    for (const [key, n] of Object.entries(other.seedsWith)) this.seedsWith.set(key, (this.seedsWith.get(key) ?? 0) + n)
    for (const [key, n] of Object.entries(other.totals)) this.totals.set(key, (this.totals.get(key) ?? 0) + n)
  }

  /** Share of seeds (0..1) that hit `key`. */
  share(key: string): number {
    return this.seeds === 0 ? 0 : (this.seedsWith.get(key) ?? 0) / this.seeds
  }

  /** Required keys hit in fewer than `minShare` of the seeds. */
  missing(minShare = 0.01, required: ReadonlyArray<string> = REQUIRED): ReadonlyArray<string> {
    return required.filter((key) => this.share(key) < minShare)
  }

  /** A text table: key, share of seeds, total count. */
  table(required: ReadonlyArray<string> = REQUIRED): string {
    const keys = [...new Set([...required, ...this.seedsWith.keys()])]
    const width = Math.max(...keys.map((k) => k.length))
    const lines = [`${"event".padEnd(width)}  seeds%   total`]
    for (const key of keys) {
      const share = (this.share(key) * 100).toFixed(1).padStart(6)
      const total = String(this.totals.get(key) ?? 0).padStart(8)
      lines.push(
        `${key.padEnd(width)}  ${share}%${total}${required.includes(key) && this.share(key) < 0.01 ? "  < 1%" : ""}`
      )
    }
    return lines.join("\n")
  }
}
