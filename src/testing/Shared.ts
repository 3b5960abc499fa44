/**
 * What the conformance kit's runner and its races share: the errors it reports, the fixed task
 * specs of children and finalize tasks, and how results are normalized before they are compared
 * (arrays of ids as sets, errors as their tag).
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import type { ExecutionRow, TaskSpec } from "../ExecutionRow.js"
import type { RetryOptions } from "../RetryOptions.js"
import type { ApplyResult } from "../TaskStorage.js"
import { TASK_IDS } from "./Scenarios.js"

/** The storage under test and the reference disagreed, or the storage failed. @since 0.1.0 @category errors */
export class Mismatch extends Data.TaggedError("Mismatch")<{ readonly message: string }> {}

/** The kit found a scenario on which the storage does not conform. @since 0.1.0 @category errors */
export class ConformanceFailure extends Data.TaggedError("ConformanceFailure")<{ readonly message: string }> {}

/** The finalize task every finalizing parent gets. @since 0.1.0 @category models */
export const FINALIZE_SPEC: TaskSpec = {
  taskId: "omega",
  timeoutMs: 1_000,
  retry: { maxAttempts: 1, baseDelayMs: 100, delayMultiplier: 2, maxDelayMs: 1_000 },
  sleepMsBeforeRun: 0
}

/** The retry options of every child. @since 0.1.0 @category models */
export const CHILD_RETRY: RetryOptions = { maxAttempts: 1, baseDelayMs: 50, delayMultiplier: 1, maxDelayMs: 50 }

/** The task ids a claim mask selects (finalize tasks run with "alpha"). @since 0.1.0 @category utils */
export const taskIdsOf = (mask: number): ReadonlySet<string> => {
  const ids = new Set<string>()
  TASK_IDS.forEach((id, i) => {
    if ((mask & (1 << i)) !== 0) ids.add(id)
  })
  if (ids.has("alpha")) ids.add(FINALIZE_SPEC.taskId)
  return ids
}

/** Short JSON for messages. @since 0.1.0 @category utils */
export const show = (value: unknown): string => {
  const text = JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? `${v}n` : v instanceof Set ? [...v] : v))
  return text === undefined ? String(value) : text.length > 2_000 ? `${text.slice(0, 2_000)}…` : text
}

/** Rows sorted by execution id. @since 0.1.0 @category utils */
export const byId = (rows: ReadonlyArray<ExecutionRow>): Array<ExecutionRow> =>
  [...rows].sort((a, b) => (a.executionId < b.executionId ? -1 : a.executionId > b.executionId ? 1 : 0))

const sorted = (ids: ReadonlyArray<string>) => [...ids].sort()

/** An apply result with its id lists compared as sets. @since 0.1.0 @category utils */
export const normalizeApply = (r: ApplyResult) => ({
  results: r.results,
  // The rows for metrics (`insertedRows`, `finishedRows`) are left out: a storage need not report them.
  changes: {
    finished: sorted(r.changes.finished),
    cancelledRunning: sorted(r.changes.cancelledRunning),
    readyAtMs: r.changes.readyAtMs
  }
})

/** An expire result: rows may expire in any order, so its per-row results compare as a multiset. @since 0.1.0 */
export const normalizeExpire = (r: ApplyResult) => ({
  ...normalizeApply(r),
  results: r.results.map((x) => show(x)).sort()
})

/** What one storage call returned. @since 0.1.0 @category models */
export type Outcome<A> = { readonly ok: A } | { readonly error: unknown }

/** Outcome of one storage call: its value, or its error's tag (and execution id). @since 0.1.0 @category utils */
export const outcome = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<Outcome<A>> =>
  Effect.match(effect, {
    onFailure: (e) => ({
      error: typeof e === "object" && e !== null && "_tag" in e
        ? { _tag: e._tag, ...("executionId" in e ? { executionId: e.executionId } : {}) }
        : String(e)
    }),
    onSuccess: (ok) => ({ ok })
  })
