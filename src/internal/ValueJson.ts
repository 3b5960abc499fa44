/**
 * JSON text assembled from values that are already serialized (the stored columns hold JSON text),
 * so that the planner builds a parent's output and a finalize task's input without decoding them.
 */
import type { ExecutionRow } from "../ExecutionRow.js"

/** JSON text for `{ key: value, ... }` from already-serialized values (null column = omitted). */
export const objectJson = (fields: ReadonlyArray<readonly [string, string | null]>): string => {
  let out = "{"
  let first = true
  for (const [key, value] of fields) {
    if (value === null) continue
    out += (first ? "" : ",") + JSON.stringify(key) + ":" + value
    first = false
  }
  return out + "}"
}

/** The `childrenOutputs` array a finalize task and a parent's output carry. */
export const childrenOutputsJson = (children: ReadonlyArray<ExecutionRow>): string =>
  "[" + children.map((c) =>
    objectJson([["taskId", JSON.stringify(c.taskId)], ["executionId", JSON.stringify(c.executionId)], [
      "output",
      c.output
    ]])
  ).join(",") + "]"
