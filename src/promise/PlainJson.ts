/**
 * Which values plain JSON restores exactly: the default serializer stores those as plain JSON (as
 * values were stored before it existed), which is smaller and faster to write and read than its
 * devalue text, and which SQL can query. Anything else goes through devalue.
 *
 * @since 0.1.0
 */

const MAX_DEPTH = 200

/** True when `JSON.parse(JSON.stringify(value))` is `value` exactly, and cannot be mistaken for a marker. */
const isPlain = (value: unknown, depth: number, seen: Set<object>): boolean => {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0)
    case "object": {
      if (value === null) return true
      // Repeated objects would come back as copies; deep values recurse too far: devalue keeps both.
      if (depth > MAX_DEPTH || seen.has(value)) return false
      seen.add(value)
      const proto = Object.getPrototypeOf(value)
      if (proto === Array.prototype) {
        const array = value as ReadonlyArray<unknown>
        for (let i = 0; i < array.length; i++) {
          if (!(i in array) || !isPlain(array[i], depth + 1, seen)) return false // a hole comes back as null
        }
        return true // (an array's own non-index keys are dropped by JSON and devalue alike)
      }
      if (proto !== Object.prototype || Object.getOwnPropertySymbols(value).length > 0) return false
      const record = value as Record<string, unknown>
      for (const key in record) {
        // `toJSON` would replace the value; "__proto__" and marker keys are devalue's to refuse or wrap.
        if (key === "toJSON" || key === "__proto__" || key.startsWith("~durable-tasks:")) return false
        if (!isPlain(record[key], depth + 1, seen)) return false // undefined is dropped by JSON
      }
      return true
    }
    default:
      return false
  }
}

/**
 * The JSON text of `value` when plain JSON restores it exactly, else undefined.
 *
 * @since 0.1.0
 * @category encoding
 */
export const plainJson = (value: unknown): string | undefined => {
  switch (typeof value) {
    case "string":
    case "boolean":
      return JSON.stringify(value)
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0) ? JSON.stringify(value) : undefined
    case "object":
      return isPlain(value, 0, new Set()) ? JSON.stringify(value) : undefined
    default:
      return undefined
  }
}
