/**
 * The trace of a run: every event is hashed (two runs of one seed print the same hash) and the
 * most recent ones are kept to explain a failure.
 *
 * @since 0.1.0
 */
import { createHash, type Hash } from "node:crypto"

/** @since 0.1.0 @category models */
export class Trace {
  private readonly hash: Hash = createHash("sha256")
  private readonly recentLines: Array<string> = []
  private nextSlot = 0
  private digestValue: string | undefined
  /** Events recorded so far. */
  count = 0

  constructor(
    private readonly keepRecent = 80,
    private readonly sink?: (line: string) => void
  ) {}

  record(line: string): void {
    this.hash.update(line)
    this.hash.update("\n")
    this.count++
    if (this.keepRecent > 0) {
      if (this.recentLines.length < this.keepRecent) this.recentLines.push(line)
      else this.recentLines[this.nextSlot] = line
      this.nextSlot = (this.nextSlot + 1) % this.keepRecent
    }
    this.sink?.(line)
  }

  /** The hash of every event recorded (16 hex digits); the trace is closed after the first call. */
  digest(): string {
    if (this.digestValue === undefined) this.digestValue = this.hash.digest("hex").slice(0, 16)
    return this.digestValue
  }

  /** The most recent events, oldest first. */
  recent(): ReadonlyArray<string> {
    if (this.recentLines.length < this.keepRecent) return this.recentLines.slice()
    return [...this.recentLines.slice(this.nextSlot), ...this.recentLines.slice(0, this.nextSlot)]
  }
}
