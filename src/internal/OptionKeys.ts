/**
 * Checks an options object against the keys it may have: the first unknown key is named, with the
 * nearest known key when one is close (`sleepBeforeRunMs` → did you mean `sleepMsBeforeRun`?).
 * Shared by every place that takes options (executor, task, retry, enqueue, Effect layers), so that
 * each refuses a misspelt key the same way.
 */

/** Edit distance between two strings (insertions, deletions, substitutions, adjacent swaps count 1). */
const distance = (a: string, b: string): number => {
  const rows = a.length + 1
  const cols = b.length + 1
  const d: Array<number> = new Array(rows * cols)
  for (let i = 0; i < rows; i++) d[i * cols] = i
  for (let j = 0; j < cols; j++) d[j] = j
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(d[(i - 1) * cols + j]! + 1, d[i * cols + j - 1]! + 1, d[(i - 1) * cols + j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[(i - 2) * cols + j - 2]! + 1)
      }
      d[i * cols + j] = best
    }
  }
  return d[rows * cols - 1]!
}

/** The same words in another order (`sleepBeforeRunMs` and `sleepMsBeforeRun`). */
const sameWords = (a: string, b: string): boolean => {
  const words = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase().split(/[\s_-]+/).sort().join(" ")
  return words(a) === words(b)
}

/** The known key nearest to `key`, when it is near enough to be a likely misspelling. */
export const nearestKey = (key: string, known: ReadonlyArray<string>): string | undefined => {
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of known) {
    if (sameWords(key, candidate)) return candidate
    // A known key's first word(s): `retry` for `retryOptions`, `finalize` for `finalizeTask`.
    if (key.length >= 4 && candidate.toLowerCase().startsWith(key.toLowerCase())) return candidate
    const d = distance(key.toLowerCase(), candidate.toLowerCase())
    if (d < bestDistance) {
      bestDistance = d
      best = candidate
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined
}

/**
 * A message naming the first key of `value` that is not in `known`, or undefined when every key is
 * known. `where` names the options object in the message (`task 'greet' options`).
 */
export const unknownKeyProblem = (
  value: object,
  known: ReadonlyArray<string>,
  where: string
): string | undefined => {
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue
    const near = nearestKey(key, known)
    return `${where}: unknown option '${key}'${
      near === undefined ? ` (known options: ${known.join(", ")})` : ` (did you mean '${near}'?)`
    }`
  }
  return undefined
}

/** Describes a value's type for messages: `string "1000"`, `null`, `array`, `number 3`. */
export const describeValue = (value: unknown): string => {
  if (value === null) return "null"
  if (Array.isArray(value)) return "array"
  switch (typeof value) {
    case "string":
      return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`
    case "number":
    case "boolean":
    case "bigint":
      return `${typeof value} ${String(value)}`
    default:
      return typeof value
  }
}
