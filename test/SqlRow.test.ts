/**
 * The column table of the stored row (`internal/sql/SqlRow.ts`) against the code derived from it
 * and the hand-written fast paths it checks: the rename of decoded rows, the choice of the narrow
 * UPDATE, and the encode/decode round trip of each dialect.
 */
import * as Either from "effect/Either"
import { describe, expect, it } from "vitest"
import { type ExecutionRow, makeReady } from "../src/ExecutionRow.js"
import {
  COLUMN_TABLE,
  COLUMNS,
  decodeRows,
  HOT_COLUMNS,
  onlyHotChanged,
  paramsOf,
  type StoredRecord,
  toExecutionRow
} from "../src/internal/sql/SqlRow.js"

const spec = {
  taskId: "t",
  timeoutMs: 1_000,
  retry: { maxAttempts: 2, baseDelayMs: 10, delayMultiplier: 2, maxDelayMs: 100 },
  sleepMsBeforeRun: 5
}

/** A row with every field set (no nulls), so that each field has a value to change. */
const fullRow: ExecutionRow = {
  ...makeReady({ spec, executionId: "e1", input: "{\"a\":1}", nowMs: 1_000 }),
  rootExecutionId: "r",
  rootTaskId: "rt",
  parentExecutionId: "p",
  parentTaskId: "pt",
  indexInParent: 3,
  status: "waiting_for_children_tasks",
  runOutput: "\"run\"",
  output: "\"out\"",
  children: [{ taskId: "c", executionId: "c1" }],
  completedChildren: 1,
  finalize: { taskId: "f", timeoutMs: 9, retry: spec.retry, sleepMsBeforeRun: 0 },
  finalizeExecutionId: "f1",
  error: { errorType: "generic", message: "boom", isRetryable: true },
  prevError: { errorType: "timed_out", message: "late", isRetryable: false },
  retryAttempts: 1,
  leaseId: "l",
  executorId: "x",
  expiresAt: 5_000,
  startedAt: 1_100,
  finishedAt: 1_200,
  idempotencyKey: "key",
  attempts: {
    total: 2,
    recent: [{
      attempt: 2,
      startedAt: 1_100,
      finishedAt: 1_150,
      executorId: "x",
      status: "ready",
      error: { errorType: "generic", message: "boom", isRetryable: true, stack: "Error: boom\n    at f" }
    }]
  },
  traceContext: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
}

/** A different value of the same type as `value`. */
const changed = (value: unknown): unknown => {
  if (typeof value === "string") return `${value}!`
  if (typeof value === "number") return value + 1
  if (typeof value === "boolean") return !value
  if (Array.isArray(value)) return [...value]
  return { ...(value as object) }
}

describe("the column table", () => {
  it("has one column per field of ExecutionRow, execution_id first, and distinct SQL names", () => {
    expect(COLUMNS.map((c) => c.field).sort()).toEqual(Object.keys(fullRow).sort())
    expect(COLUMNS[0]!.sqlName).toBe("execution_id")
    expect(new Set(COLUMNS.map((c) => c.sqlName)).size).toBe(COLUMNS.length)
    const often = COLUMNS.filter((c) => c.changes === "often").map((c) => c.field)
    expect(HOT_COLUMNS.map((c) => c.field)).toEqual(["executionId", ...often])
  })

  it("toExecutionRow renames every column to its field, and nothing else", () => {
    const record = Object.fromEntries(COLUMNS.map((c, i) => [c.sqlName, `value ${i}`])) as unknown as StoredRecord
    const row = toExecutionRow(record) as unknown as Record<string, unknown>
    expect(Object.keys(row)).toEqual(COLUMNS.map((c) => c.field))
    COLUMNS.forEach((c, i) => expect(row[c.field]).toBe(`value ${i}`))
  })

  it("onlyHotChanged is false exactly when a column the narrow UPDATE does not write changed", () => {
    expect(onlyHotChanged(fullRow, { ...fullRow })).toBe(true)
    for (const c of COLUMNS) {
      const after = { ...fullRow, [c.field]: changed(fullRow[c.field]) } as ExecutionRow
      expect({ field: c.field, onlyHot: onlyHotChanged(fullRow, after) }).toEqual({
        field: c.field,
        onlyHot: c.changes === "often"
      })
    }
    // A field the table misses would make this fail too.
    expect(Object.keys(COLUMN_TABLE)).toHaveLength(Object.keys(fullRow).length)
  })
})

describe("the row codec", () => {
  const rows: ReadonlyArray<ExecutionRow> = [fullRow, makeReady({ spec, executionId: "e2", input: null, nowMs: 7 })]

  /** The record a driver returns for `row`: the bound values, as each driver gives them back. */
  const asStored = (dialect: "pg" | "sqlite", row: ExecutionRow) => {
    const values = paramsOf(dialect, COLUMNS)(row)
    return Object.fromEntries(COLUMNS.map((c, k) => {
      const value = values[k]
      // Postgres returns bigint columns as strings.
      return [c.sqlName, dialect === "pg" && c.kind === "int8" && value !== null ? String(value) : value]
    }))
  }

  for (const dialect of ["pg", "sqlite"] as const) {
    it(`${dialect}: decoding the encoded row gives the row back`, () => {
      const decoded = decodeRows(dialect, rows.map((r) => asStored(dialect, r)))
      expect(decoded).toEqual(Either.right(rows))
    })
  }

  it("stores JSON columns with their Schema's fields only, in order", () => {
    const withExtra = {
      ...fullRow,
      finalize: { ...fullRow.finalize!, executionId: "x", input: "1" } as ExecutionRow["finalize"],
      children: [{ taskId: "c", executionId: "c1", extra: 1 } as ExecutionRow["children"][number]]
    }
    const stored = asStored("sqlite", withExtra)
    expect(stored["finalize"]).toBe(
      "{\"taskId\":\"f\",\"timeoutMs\":9,\"retry\":{\"maxAttempts\":2,\"baseDelayMs\":10,\"delayMultiplier\":2," +
        "\"maxDelayMs\":100},\"sleepMsBeforeRun\":0}"
    )
    expect(stored["children"]).toBe("[{\"taskId\":\"c\",\"executionId\":\"c1\"}]")
    expect(stored["is_finalize"]).toBe(0)
    expect(asStored("pg", withExtra)["is_finalize"]).toBe(false)
  })

  it("names the execution and the column of a row that does not decode", () => {
    const bad = { ...asStored("sqlite", fullRow), status: "lost" }
    const decoded = decodeRows("sqlite", [bad])
    expect(Either.isLeft(decoded) && decoded.left).toMatch(/stored execution e1 does not decode: [\s\S]*status/)
  })
})
