/**
 * The conformance kit's concurrent phases. A race makes several storage calls at once; the storage
 * must behave as if they ran one after another in some order (they are transactions). The kit
 * replays the calls on copies of the {@link ReferenceModel} in every order (pruned as soon as one
 * call's result cannot be explained) and accepts the race when an order gives every call's result
 * and the stored rows. This catches what one call at a time cannot: two claims taking the same row,
 * a child-count increment lost between two finishes, a finish and an expiry both applied.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { isDeepStrictEqual } from "node:util"
import type { ExecutionRow, NewChild } from "../ExecutionRow.js"
import { makeReady } from "../ExecutionRow.js"
import type { ClaimRequest, Command, TaskStorage } from "../TaskStorage.js"
import type { ReferenceModel } from "./ReferenceModel.js"
import type { RaceCall, RootSpec } from "./Scenarios.js"
import { TASK_IDS } from "./Scenarios.js"
import {
  byId,
  CHILD_RETRY,
  FINALIZE_SPEC,
  Mismatch,
  normalizeApply,
  normalizeExpire,
  type Outcome,
  outcome,
  show,
  taskIdsOf
} from "./Shared.js"

/** A race call made concrete against the current rows. */
type Call =
  | { readonly _tag: "claim"; readonly request: ClaimRequest }
  | { readonly _tag: "insert"; readonly rows: ReadonlyArray<ExecutionRow> }
  | { readonly _tag: "apply"; readonly commands: ReadonlyArray<Command> }
  | { readonly _tag: "expire"; readonly nowMs: number; readonly limit: number }

/** What a race needs from the runner: the time, the model, and fresh ids. */
export interface RaceContext {
  readonly step: number
  readonly nowMs: number
  readonly model: ReferenceModel
  readonly freshId: (prefix: string) => string
}

/** Running rows, siblings under the same parent first (largest family first): finishes target these. */
const finishTargets = (rows: ReadonlyArray<ExecutionRow>): ReadonlyArray<ExecutionRow> => {
  const families = new Map<string, Array<ExecutionRow>>()
  for (const r of rows) {
    if (r.status !== "running") continue
    const key = r.parentExecutionId ?? `root:${r.executionId}`
    families.set(key, [...(families.get(key) ?? []), r])
  }
  return [...families.values()].sort((a, b) => b.length - a.length).flat()
}

const rootRows = (roots: ReadonlyArray<RootSpec>, ctx: RaceContext): ReadonlyArray<ExecutionRow> =>
  roots.map((r) =>
    makeReady({
      spec: { taskId: TASK_IDS[r.task]!, timeoutMs: r.timeoutMs, retry: r.retry, sleepMsBeforeRun: r.sleepMs },
      executionId: ctx.freshId("r"),
      input: r.input,
      nowMs: ctx.nowMs,
      idempotencyKey: r.key ?? null
    })
  )

const resolve = (calls: ReadonlyArray<RaceCall>, ctx: RaceContext): ReadonlyArray<Call> => {
  const rows = ctx.model.all()
  const targets = finishTargets(rows)
  let finishes = 0
  return calls.map((c, k): Call => {
    const nowMs = ctx.nowMs
    switch (c._tag) {
      case "Claim":
        return {
          _tag: "claim",
          request: {
            nowMs,
            limit: c.limit,
            taskIds: taskIdsOf(c.taskMask),
            executorId: `race${k}`,
            claimId: `k${ctx.step}.${k}`,
            leaseLeewayMs: c.leewayMs
          }
        }
      case "Insert":
        return { _tag: "insert", rows: rootRows(c.roots, ctx) }
      case "Expire":
        return { _tag: "expire", nowMs, limit: 1_000_000 }
      case "Cancel": {
        const n = c.ref % (rows.length + 1)
        const executionId = n < rows.length ? rows[n]!.executionId : `missing_${c.ref}`
        return { _tag: "apply", commands: [{ executionId, event: { _tag: "Cancel", nowMs, reason: `race ${k}` } }] }
      }
      case "Finish": {
        const i = finishes++
        const target = targets.length === 0 ? undefined : targets[i < targets.length ? i : c.ref % targets.length]!
        const executionId = target?.executionId ?? `missing_${c.ref}`
        const leaseId = target?.leaseId ?? `stale:${executionId}`
        const children: Array<NewChild> = Array.from({ length: c.children }, (_, j) => ({
          taskId: TASK_IDS[j % 2]!,
          timeoutMs: 1_000,
          retry: CHILD_RETRY,
          sleepMsBeforeRun: 0,
          executionId: ctx.freshId("c"),
          input: `${j}`
        }))
        const error = { errorType: "generic" as const, message: `race ${k}`, isRetryable: c.outcome === "retry" }
        const event = c.outcome === "succeed"
          ? {
            _tag: "RunSucceeded" as const,
            nowMs,
            leaseId,
            runOutput: `${k}`,
            children,
            finalize: c.children > 1 ? FINALIZE_SPEC : null
          }
          : c.outcome === "release"
          ? { _tag: "Release" as const, nowMs, leaseId }
          : { _tag: "RunFailed" as const, nowMs, leaseId, error, timedOut: false }
        return { _tag: "apply", commands: [{ executionId, event }] }
      }
    }
  })
}

const callStorage = (storage: TaskStorage["Type"], call: Call): Effect.Effect<Outcome<unknown>> => {
  switch (call._tag) {
    case "claim":
      return outcome(Effect.map(storage.claim(call.request), byId))
    case "insert":
      return outcome(storage.insert(call.rows))
    case "apply":
      return outcome(Effect.map(storage.apply(call.commands), normalizeApply))
    case "expire":
      return outcome(Effect.map(storage.expire(call), normalizeExpire))
  }
}

/** Applies `call` to `model` and tells whether that explains `actual` (a claim may take any of tied rows). */
const explains = (model: ReferenceModel, call: Call, actual: Outcome<unknown>): boolean => {
  switch (call._tag) {
    case "claim": {
      if (!("ok" in actual)) return false
      const got = actual.ok as ReadonlyArray<ExecutionRow>
      const ids = new Set(got.map((r) => r.executionId))
      let valid = ids.size === got.length
      const claimed = model.claim(call.request, (due) => {
        const taken = due.filter((r) => ids.has(r.executionId))
        const rest = due.filter((r) => !ids.has(r.executionId))
        const newest = Math.max(...taken.map((r) => r.startAt))
        valid &&= taken.length === ids.size && taken.length === Math.min(call.request.limit, due.length) &&
          rest.every((r) => r.startAt >= newest)
        return valid ? taken : []
      })
      return valid && isDeepStrictEqual(byId(claimed), got)
    }
    case "insert": {
      const result = model.insert(call.rows)
      const expected = "ok" in result
        ? { ok: result.ok }
        : { error: { _tag: "DuplicateExecution", executionId: result.duplicate } }
      return isDeepStrictEqual(expected, actual)
    }
    case "apply":
      return isDeepStrictEqual({ ok: normalizeApply(model.apply(call.commands)) }, actual)
    case "expire":
      return isDeepStrictEqual({ ok: normalizeExpire(model.expire(call)) }, actual)
  }
}

/** Runs `call` on `model` as the reference would on its own. */
const replay = (model: ReferenceModel, call: Call): void => {
  if (call._tag === "claim") model.claim(call.request)
  else if (call._tag === "insert") model.insert(call.rows)
  else if (call._tag === "apply") model.apply(call.commands)
  else model.expire(call)
}

/** A model after some serial order of `calls` that explains every result and ends with `stored`. */
const explainedBy = (
  model: ReferenceModel,
  calls: ReadonlyArray<Call>,
  actual: ReadonlyArray<Outcome<unknown>>,
  remaining: ReadonlyArray<number>,
  stored: ReadonlyArray<ExecutionRow>
): ReferenceModel | undefined => {
  if (remaining.length === 0) return isDeepStrictEqual(byId(model.all()), stored) ? model : undefined
  for (const k of remaining) {
    const next = model.copy()
    if (!explains(next, calls[k]!, actual[k]!)) continue
    const found = explainedBy(next, calls, actual, remaining.filter((j) => j !== k), stored)
    if (found !== undefined) return found
  }
  return undefined
}

/**
 * Makes the race's calls on `storage` at once and returns the model after a serial order that
 * explains them; fails with a {@link Mismatch} when no order does.
 *
 * @since 0.1.0
 * @category running
 */
export const runRace = (
  calls: ReadonlyArray<RaceCall>,
  storage: TaskStorage["Type"],
  ctx: RaceContext
): Effect.Effect<ReferenceModel, Mismatch> =>
  Effect.gen(function*() {
    const concrete = resolve(calls, ctx)
    const actual = yield* Effect.all(concrete.map((c) => callStorage(storage, c)), { concurrency: "unbounded" })
    const stored = byId(
      yield* Effect.mapError(
        storage.list({ limit: 1_000_000 }),
        (e) => new Mismatch({ message: `list failed: ${show(e)}` })
      )
    )
    const found = explainedBy(ctx.model, concrete, actual, concrete.map((_, k) => k), stored)
    if (found !== undefined) return found
    const inOrder = ctx.model.copy()
    for (const c of concrete) replay(inOrder, c)
    const expectedRows = new Map(inOrder.all().map((r) => [r.executionId, r] as const))
    const differing = stored.filter((r) => !isDeepStrictEqual(expectedRows.get(r.executionId), r))
    return yield* new Mismatch({
      message: `step ${ctx.step} race of ${concrete.length} calls: no serial order explains the results\n` +
        `  calls:   ${show(concrete)}\n  results: ${show(actual)}\n` +
        `  stored rows unlike the calls run in the order given: ${show(differing)}`
    })
  })
