/**
 * A binary min-heap, ordered by `(key, seq)`: the run deadlines of {@link ../RunTimeouts}.
 * Hand-written because no Effect module keeps a mutable priority queue; swaps are written out
 * without array destructuring, which allocated on every swap (claiming in memory: ~1.6 → ~0.9 KB
 * allocated per row, measured with the bench's allocation counts, commit a46e6cb).
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export interface Entry<A> {
  readonly key: number
  readonly seq: number
  readonly value: A
}

const less = <A>(a: Entry<A>, b: Entry<A>): boolean => a.key < b.key || (a.key === b.key && a.seq < b.seq)

/** @since 0.1.0 */
export class Heap<A> {
  private readonly items: Array<Entry<A>> = []

  get size(): number {
    return this.items.length
  }

  peek(): Entry<A> | undefined {
    return this.items[0]
  }

  push(entry: Entry<A>): void {
    const items = this.items
    items.push(entry)
    let i = items.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      const up = items[parent]!
      if (!less(entry, up)) break
      items[i] = up
      i = parent
    }
    items[i] = entry
  }

  /** Keeps only the entries that satisfy `keep` (O(n)). */
  retain(keep: (entry: Entry<A>) => boolean): void {
    const kept = this.items.filter(keep)
    this.items.length = 0
    for (const entry of kept) this.push(entry)
  }

  pop(): Entry<A> | undefined {
    const items = this.items
    const top = items[0]
    const last = items.pop()
    if (top === undefined || last === undefined || items.length === 0) return top
    const n = items.length
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let smallest = last
      let at = i
      if (l < n && less(items[l]!, smallest)) {
        smallest = items[l]!
        at = l
      }
      if (r < n && less(items[r]!, smallest)) {
        smallest = items[r]!
        at = r
      }
      if (at === i) break
      items[i] = smallest
      i = at
    }
    items[i] = last
    return top
  }
}
