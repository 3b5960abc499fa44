/**
 * A storage conformance kit: model-based properties that apply random sequences of operations to
 * a storage under test and to the in-memory reference ({@link MemoryStorage}), and compare what
 * each returns and stores after every step.
 *
 * Operations: insert roots (and duplicates), claim (random task ids, limits, lease leeways),
 * finish with the current lease and with stale or foreign ones (success with children and a
 * finalize task, failure retryable or not, timeout, release), cancel, expire, and reads (get,
 * getMany, list, nextWake), under a random clock that also jumps backwards. The storage under test
 * is fresh (empty) for every generated scenario.
 *
 * Where the port leaves a choice open, the kit does not pin one: rows due at the same instant may
 * be claimed or expired in any order (the kit widens a limit that would cut through such a tie),
 * `list` may return any matching rows up to its limit, `getMany` may repeat a row for a repeated id
 * or not, and arrays of ids compare as sets.
 *
 * ```ts
 * import * as StorageConformance from "durable-tasks/testing"
 * it("conforms", () => Effect.runPromise(StorageConformance.check({ make: makeMyStorage })))
 * ```
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as fc from "effect/FastCheck"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import { isDeepStrictEqual } from "node:util"
import type { ExecutionError, ExecutionRow, NewChild, TaskSpec } from "../ExecutionRow.js"
import { makeReady } from "../ExecutionRow.js"
import * as MemoryStorage from "../MemoryStorage.js"
import type * as Planner from "../Planner.js"
import type { RetryOptions } from "../RetryOptions.js"
import type { TaskStatus } from "../TaskStatus.js"
import { TASK_STATUSES } from "../TaskStatus.js"
import type { ApplyResult, TaskStorage } from "../TaskStorage.js"

// ---------------------------------------------------------------------------------------------
// Scenarios

const TASK_IDS = ["alpha", "beta", "gamma"] as const

/** Which lease a finish carries. @since 0.1.0 @category models */
export type LeaseChoice = "current" | "stale" | "foreign"

/** One command of an `Apply` step; `ref` picks a known execution (or, past the end, a missing one). @since 0.1.0 @category models */
export type CommandSpec =
  | {
    readonly _tag: "Succeed"
    readonly ref: number
    readonly lease: LeaseChoice
    readonly output: string | null
    readonly children: ReadonlyArray<{ readonly task: number; readonly input: string | null; readonly timeoutMs: number }>
    readonly finalize: boolean
  }
  | {
    readonly _tag: "Fail"
    readonly ref: number
    readonly lease: LeaseChoice
    readonly retryable: boolean
    readonly timedOut: boolean
    readonly message: string
  }
  | { readonly _tag: "Release"; readonly ref: number; readonly lease: LeaseChoice }
  | { readonly _tag: "Cancel"; readonly ref: number; readonly reason: string }

/** One step of a scenario. @since 0.1.0 @category models */
export type Step =
  | {
    readonly _tag: "Insert"
    readonly roots: ReadonlyArray<{
      readonly task: number
      readonly input: string | null
      readonly timeoutMs: number
      readonly sleepMs: number
      readonly retry: RetryOptions
    }>
    /** Also include an already stored id: the whole insert must fail with DuplicateExecution. */
    readonly duplicateRef: number | null
  }
  | { readonly _tag: "Claim"; readonly taskMask: number; readonly limit: number; readonly leewayMs: number; readonly executor: number }
  | { readonly _tag: "Apply"; readonly commands: ReadonlyArray<CommandSpec> }
  | { readonly _tag: "Expire"; readonly limit: number }
  | { readonly _tag: "Clock"; readonly deltaMs: number }
  | { readonly _tag: "Get"; readonly ref: number }
  | { readonly _tag: "GetMany"; readonly refs: ReadonlyArray<number> }
  | {
    readonly _tag: "List"
    readonly status: TaskStatus | null
    readonly task: number | null
    readonly rootRef: number | null
    readonly limit: number
  }
  | { readonly _tag: "NextWake"; readonly taskMask: number }

/** A generated scenario. @since 0.1.0 @category models */
export interface Scenario {
  readonly startMs: number
  readonly steps: ReadonlyArray<Step>
}

const jsonText: fc.Arbitrary<string | null> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 4, arbitrary: fc.json({ maxDepth: 2 }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 2, stringUnit: "binary" }).map((v) => JSON.stringify(v)) }
)
const ref = fc.nat({ max: 40 })
const lease: fc.Arbitrary<LeaseChoice> = fc.oneof(
  { weight: 6, arbitrary: fc.constant("current" as const) },
  { weight: 2, arbitrary: fc.constant("stale" as const) },
  { weight: 1, arbitrary: fc.constant("foreign" as const) }
)
const retry: fc.Arbitrary<RetryOptions> = fc.record({
  maxAttempts: fc.integer({ min: 0, max: 2 }),
  baseDelayMs: fc.integer({ min: 0, max: 2_000 }),
  delayMultiplier: fc.constantFrom(1, 1.5, 2),
  maxDelayMs: fc.integer({ min: 0, max: 5_000 })
})
const command: fc.Arbitrary<CommandSpec> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      _tag: fc.constant("Succeed" as const),
      ref,
      lease,
      output: jsonText,
      children: fc.oneof(
        { weight: 3, arbitrary: fc.constant([]) },
        {
          weight: 2,
          arbitrary: fc.array(
            fc.record({ task: fc.nat({ max: 2 }), input: jsonText, timeoutMs: fc.integer({ min: 1, max: 5_000 }) }),
            { minLength: 1, maxLength: 3 }
          )
        }
      ),
      finalize: fc.boolean()
    })
  },
  {
    weight: 3,
    arbitrary: fc.record({
      _tag: fc.constant("Fail" as const),
      ref,
      lease,
      retryable: fc.boolean(),
      timedOut: fc.boolean(),
      message: fc.string({ maxLength: 12, unit: "binary" })
    })
  },
  { weight: 1, arbitrary: fc.record({ _tag: fc.constant("Release" as const), ref, lease }) },
  { weight: 1, arbitrary: fc.record({ _tag: fc.constant("Cancel" as const), ref, reason: fc.string({ maxLength: 12 }) }) }
)
const taskMask = fc.integer({ min: 1, max: 7 })

/** Arbitrary scenarios. @since 0.1.0 @category arbitraries */
export const scenario = (options: { readonly maxSteps?: number | undefined } = {}): fc.Arbitrary<Scenario> =>
  fc.record({
    startMs: fc.integer({ min: 0, max: 2_000_000_000_000 }),
    steps: fc.array(
      fc.oneof(
        {
          weight: 4,
          arbitrary: fc.record({
            _tag: fc.constant("Insert" as const),
            roots: fc.array(
              fc.record({
                task: fc.nat({ max: 2 }),
                input: jsonText,
                timeoutMs: fc.integer({ min: 1, max: 10_000 }),
                sleepMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 5_000 })),
                retry
              }),
              { minLength: 1, maxLength: 3 }
            ),
            duplicateRef: fc.option(ref, { freq: 8, nil: null })
          })
        },
        {
          weight: 5,
          arbitrary: fc.record({
            _tag: fc.constant("Claim" as const),
            taskMask,
            limit: fc.integer({ min: 1, max: 5 }),
            leewayMs: fc.integer({ min: 0, max: 3_000 }),
            executor: fc.nat({ max: 1 })
          })
        },
        { weight: 6, arbitrary: fc.record({ _tag: fc.constant("Apply" as const), commands: fc.array(command, { minLength: 1, maxLength: 3 }) }) },
        { weight: 2, arbitrary: fc.record({ _tag: fc.constant("Expire" as const), limit: fc.integer({ min: 1, max: 5 }) }) },
        {
          weight: 3,
          arbitrary: fc.record({
            _tag: fc.constant("Clock" as const),
            deltaMs: fc.oneof(
              { weight: 4, arbitrary: fc.integer({ min: 0, max: 3_000 }) },
              { weight: 2, arbitrary: fc.integer({ min: 3_000, max: 20_000 }) },
              { weight: 1, arbitrary: fc.integer({ min: -5_000, max: 0 }) }
            )
          })
        },
        { weight: 1, arbitrary: fc.record({ _tag: fc.constant("Get" as const), ref }) },
        { weight: 1, arbitrary: fc.record({ _tag: fc.constant("GetMany" as const), refs: fc.array(ref, { maxLength: 4 }) }) },
        {
          weight: 1,
          arbitrary: fc.record({
            _tag: fc.constant("List" as const),
            status: fc.option(fc.constantFrom(...TASK_STATUSES), { nil: null }),
            task: fc.option(fc.nat({ max: 2 }), { nil: null }),
            rootRef: fc.option(ref, { freq: 4, nil: null }),
            limit: fc.integer({ min: 0, max: 8 })
          })
        },
        { weight: 1, arbitrary: fc.record({ _tag: fc.constant("NextWake" as const), taskMask }) }
      ),
      { minLength: Math.min(10, options.maxSteps ?? 40), maxLength: options.maxSteps ?? 40, size: "max" }
    )
  })

// ---------------------------------------------------------------------------------------------
// Running a scenario against both storages

/** The storage under test and the reference disagreed, or the storage failed. @since 0.1.0 @category errors */
export class Mismatch extends Data.TaggedError("Mismatch")<{ readonly message: string }> {}

/** The kit found a scenario on which the storage does not conform. @since 0.1.0 @category errors */
export class ConformanceFailure extends Data.TaggedError("ConformanceFailure")<{ readonly message: string }> {}

const FINALIZE_SPEC: TaskSpec = {
  taskId: "omega",
  timeoutMs: 1_000,
  retry: { maxAttempts: 1, baseDelayMs: 100, delayMultiplier: 2, maxDelayMs: 1_000 },
  sleepMsBeforeRun: 0
}
const CHILD_RETRY: RetryOptions = { maxAttempts: 1, baseDelayMs: 50, delayMultiplier: 1, maxDelayMs: 50 }

const taskIdsOf = (mask: number): ReadonlySet<string> => {
  const ids = new Set<string>()
  TASK_IDS.forEach((id, i) => {
    if ((mask & (1 << i)) !== 0) ids.add(id)
  })
  // Finalize tasks run when "alpha" runs, so they are claimed too.
  if (ids.has("alpha")) ids.add(FINALIZE_SPEC.taskId)
  return ids
}

const show = (value: unknown): string => {
  const text = JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? `${v}n` : v))
  return text === undefined ? String(value) : text.length > 2_000 ? `${text.slice(0, 2_000)}…` : text
}

const byId = (rows: ReadonlyArray<ExecutionRow>) => [...rows].sort((a, b) => (a.executionId < b.executionId ? -1 : a.executionId > b.executionId ? 1 : 0))
const sorted = (ids: ReadonlyArray<string>) => [...ids].sort()

/** Outcome of one storage call: its value, or its error's tag and message. */
const outcome = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<{ readonly ok: A } | { readonly error: unknown }> =>
  Effect.match(effect, {
    onFailure: (e) => ({
      error: typeof e === "object" && e !== null && "_tag" in e
        ? { _tag: e._tag, ...("executionId" in e ? { executionId: e.executionId } : {}) }
        : String(e)
    }),
    onSuccess: (ok) => ({ ok })
  })

/**
 * Runs one scenario against `storage` and `reference` (both empty), comparing after every step.
 *
 * @since 0.1.0
 * @category running
 */
export const runScenario = (
  s: Scenario,
  storage: TaskStorage["Type"],
  reference: TaskStorage["Type"]
): Effect.Effect<void, Mismatch> =>
  Effect.gen(function*() {
    let nowMs = s.startMs
    let counter = 0
    const leases = new Map<string, Array<string>>()
    const mismatch = (i: number, step: Step | "state", what: string, expected: unknown, actual: unknown) =>
      new Mismatch({
        message: `step ${i} ${show(step)}: ${what} differs\n  reference: ${show(expected)}\n  storage:   ${show(actual)}`
      })
    const failIfDifferent = (i: number, step: Step, what: string, expected: unknown, actual: unknown) =>
      isDeepStrictEqual(expected, actual) ? Effect.void : Effect.fail(mismatch(i, step, what, expected, actual))
    const dump = (t: TaskStorage["Type"]) => Effect.map(Effect.orDie(t.list({ limit: 1_000_000 })), byId)
    const storageDump = Effect.mapError(storage.list({ limit: 1_000_000 }), (e) => new Mismatch({ message: `storage list failed: ${show(e)}` }))

    for (let i = 0; i < s.steps.length; i++) {
      const step = s.steps[i]!
      const state = yield* dump(reference)
      const known = state.map((r) => r.executionId)
      const rowOf = new Map(state.map((r) => [r.executionId, r] as const))
      /** A known execution, or (one time in `known.length + 1`) a missing one. */
      const idOf = (n: number) => {
        const k = n % (known.length + 1)
        return k < known.length ? known[k]! : `missing_${n}`
      }
      const running = state.filter((r) => r.status === "running").map((r) => r.executionId)
      /** Finishes mostly target running executions, where they can apply. */
      const finishTarget = (n: number) => (running.length > 0 && n % 4 !== 0 ? running[n % running.length]! : idOf(n))
      const leaseFor = (id: string, choice: LeaseChoice): string => {
        const current = rowOf.get(id)?.leaseId ?? null
        if (choice === "current" && current !== null) return current
        if (choice === "foreign") {
          const other = state.find((r) => r.leaseId !== null && r.executionId !== id)
          if (other?.leaseId) return other.leaseId
        }
        const old = (leases.get(id) ?? []).filter((l) => l !== current)
        return old.length > 0 ? old[old.length - 1]! : `stale:${id}`
      }
      const both = <A, E>(f: (t: TaskStorage["Type"]) => Effect.Effect<A, E>) =>
        Effect.all([outcome(f(reference)), outcome(f(storage))])

      switch (step._tag) {
        case "Clock": {
          nowMs = Math.max(0, nowMs + step.deltaMs)
          break
        }
        case "Insert": {
          const rows = step.roots.map((r) =>
            makeReady({
              spec: { taskId: TASK_IDS[r.task]!, timeoutMs: r.timeoutMs, retry: r.retry, sleepMsBeforeRun: r.sleepMs },
              executionId: `r${counter++}`,
              input: r.input,
              nowMs
            })
          )
          if (step.duplicateRef !== null && known.length > 0) {
            const existing = rowOf.get(known[step.duplicateRef % known.length]!)!
            rows.push({ ...existing, status: "ready" })
          }
          const [expected, actual] = yield* both((t) => t.insert(rows))
          yield* failIfDifferent(i, step, "insert result", expected, actual)
          break
        }
        case "Claim": {
          const taskIds = taskIdsOf(step.taskMask)
          const due = state
            .filter((r) => r.status === "ready" && taskIds.has(r.taskId) && r.startAt <= nowMs)
            .sort((a, b) => a.startAt - b.startAt)
          let limit = step.limit
          // Rows due at the same instant may be taken in any order: never cut through such a tie.
          while (limit < due.length && due[limit - 1]!.startAt === due[limit]!.startAt) limit++
          const request = {
            nowMs,
            limit,
            taskIds,
            executorId: `ex${step.executor}`,
            claimId: `k${i}`,
            leaseLeewayMs: step.leewayMs
          }
          const [expected, actual] = yield* both((t) => Effect.map(t.claim(request), byId))
          yield* failIfDifferent(i, step, "claimed rows", expected, actual)
          if ("ok" in expected) {
            for (const r of expected.ok) {
              if (r.leaseId !== null) leases.set(r.executionId, [...(leases.get(r.executionId) ?? []), r.leaseId])
            }
          }
          break
        }
        case "Apply": {
          const commands = step.commands.map((c): { executionId: string; event: Planner.Event } => {
            const executionId = c._tag === "Cancel" ? idOf(c.ref) : finishTarget(c.ref)
            switch (c._tag) {
              case "Succeed": {
                const children: Array<NewChild> = c.children.map((child) => ({
                  taskId: TASK_IDS[child.task]!,
                  timeoutMs: child.timeoutMs,
                  retry: CHILD_RETRY,
                  sleepMsBeforeRun: 0,
                  executionId: `c${counter++}`,
                  input: child.input
                }))
                return {
                  executionId,
                  event: {
                    _tag: "RunSucceeded",
                    nowMs,
                    leaseId: leaseFor(executionId, c.lease),
                    runOutput: c.output,
                    children,
                    finalize: c.finalize ? FINALIZE_SPEC : null
                  }
                }
              }
              case "Fail": {
                const error: ExecutionError = {
                  errorType: c.timedOut ? "timed_out" : "generic",
                  message: c.message,
                  isRetryable: c.retryable
                }
                return {
                  executionId,
                  event: { _tag: "RunFailed", nowMs, leaseId: leaseFor(executionId, c.lease), error, timedOut: c.timedOut }
                }
              }
              case "Release":
                return { executionId, event: { _tag: "Release", nowMs, leaseId: leaseFor(executionId, c.lease) } }
              case "Cancel":
                return { executionId, event: { _tag: "Cancel", nowMs, reason: c.reason } }
            }
          })
          const normalize = (r: ApplyResult) => ({
            results: r.results,
            changes: { ...r.changes, finished: sorted(r.changes.finished), cancelledRunning: sorted(r.changes.cancelledRunning) }
          })
          const [expected, actual] = yield* both((t) => Effect.map(t.apply(commands), normalize))
          yield* failIfDifferent(i, step, "apply result", expected, actual)
          break
        }
        case "Expire": {
          const expired = state
            .filter((r) => r.status === "running" && r.expiresAt !== null && r.expiresAt <= nowMs)
            .sort((a, b) => a.expiresAt! - b.expiresAt!)
          let limit = step.limit
          while (limit < expired.length && expired[limit - 1]!.expiresAt === expired[limit]!.expiresAt) limit++
          const [expected, actual] = yield* both((t) =>
            Effect.map(t.expire({ nowMs, limit }), (r) => ({
              results: r.results.map((x) => show(x)).sort(),
              changes: { ...r.changes, finished: sorted(r.changes.finished), cancelledRunning: sorted(r.changes.cancelledRunning) }
            }))
          )
          yield* failIfDifferent(i, step, "expire result", expected, actual)
          break
        }
        case "Get": {
          const id = idOf(step.ref)
          const [expected, actual] = yield* both((t) => t.get(id))
          yield* failIfDifferent(i, step, `get(${id})`, expected, actual)
          break
        }
        case "GetMany": {
          const ids = step.refs.map(idOf)
          // Repeated ids may or may not repeat rows: compare the distinct rows.
          const distinct = (rows: ReadonlyArray<ExecutionRow>) => byId([...new Map(rows.map((r) => [r.executionId, r])).values()])
          const [expected, actual] = yield* both((t) => Effect.map(t.getMany(ids), distinct))
          yield* failIfDifferent(i, step, "getMany", expected, actual)
          break
        }
        case "List": {
          const query = {
            limit: step.limit,
            ...(step.status !== null ? { status: step.status } : {}),
            ...(step.task !== null ? { taskId: TASK_IDS[step.task]! } : {}),
            ...(step.rootRef !== null ? { rootExecutionId: idOf(step.rootRef) } : {})
          }
          const matching = state.filter((r) =>
            (query.status === undefined || r.status === query.status) &&
            (query.taskId === undefined || r.taskId === query.taskId) &&
            (query.rootExecutionId === undefined || r.rootExecutionId === query.rootExecutionId)
          )
          const actual = yield* outcome(storage.list(query))
          if (!("ok" in actual)) return yield* mismatch(i, step, "list", "rows", actual)
          const wantCount = Math.min(step.limit, matching.length)
          const byIdRef = new Map(matching.map((r) => [r.executionId, r] as const))
          const ids = new Set(actual.ok.map((r) => r.executionId))
          if (actual.ok.length !== wantCount || ids.size !== wantCount || !actual.ok.every((r) => isDeepStrictEqual(byIdRef.get(r.executionId), r))) {
            return yield* mismatch(i, step, `list (any ${wantCount} of these)`, byId(matching), byId(actual.ok))
          }
          break
        }
        case "NextWake": {
          const taskIds = taskIdsOf(step.taskMask)
          const [expected, actual] = yield* both((t) => t.nextWake(taskIds))
          yield* failIfDifferent(i, step, "nextWake", expected, actual)
          break
        }
      }
      const expectedRows = yield* dump(reference)
      const actualRows = byId(yield* storageDump)
      if (!isDeepStrictEqual(expectedRows, actualRows)) {
        const ids = new Set([...expectedRows, ...actualRows].map((r) => r.executionId))
        const exp = new Map(expectedRows.map((r) => [r.executionId, r] as const))
        const act = new Map(actualRows.map((r) => [r.executionId, r] as const))
        const differing = [...ids].filter((id) => !isDeepStrictEqual(exp.get(id), act.get(id)))
        return yield* mismatch(
          i,
          step,
          `stored rows after the step (${differing.join(", ")})`,
          differing.map((id) => exp.get(id) ?? null),
          differing.map((id) => act.get(id) ?? null)
        )
      }
    }
  })

// ---------------------------------------------------------------------------------------------
// The property

/** @since 0.1.0 @category models */
export interface Options<R> {
  /** Builds a fresh, empty storage under test; called once per scenario, in the scenario's scope. */
  readonly make: Effect.Effect<TaskStorage["Type"], unknown, R | Scope.Scope>
  /** The reference. Default: a fresh {@link MemoryStorage}. */
  readonly reference?: Effect.Effect<TaskStorage["Type"]> | undefined
  /** Scenarios to run. Default 50. */
  readonly numRuns?: number | undefined
  /** Longest scenario. Default 40 steps. */
  readonly maxSteps?: number | undefined
  /** Replays a failure: the seed (and path) that fast-check printed. */
  readonly seed?: number | undefined
  readonly path?: string | undefined
  /** Shrink a failing scenario to a small one. Default true. */
  readonly shrink?: boolean | undefined
}

/**
 * Runs the properties; fails with {@link ConformanceFailure} (the shrunk scenario, the first
 * difference, and the seed to replay it) when the storage does not conform.
 *
 * @since 0.1.0
 * @category running
 */
export const check = <R>(options: Options<R>): Effect.Effect<void, ConformanceFailure, R> =>
  Effect.gen(function*() {
    const runtime = yield* Effect.runtime<R>()
    const runPromiseExit = Runtime.runPromiseExit(runtime)
    const reference = options.reference ?? MemoryStorage.make
    const property = fc.asyncProperty(scenario({ maxSteps: options.maxSteps }), async (s) => {
      const exit = await runPromiseExit(Effect.scoped(Effect.gen(function*() {
        const storage = yield* Effect.mapError(options.make, (e) => new Mismatch({ message: `make failed: ${show(e)}` }))
        const ref = yield* reference
        yield* runScenario(s, storage, ref)
      })))
      if (Exit.isFailure(exit)) {
        const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined
        throw new Error(failure instanceof Mismatch ? failure.message : String(exit.cause))
      }
    })
    yield* Effect.tryPromise({
      try: () =>
        fc.assert(property, {
          numRuns: options.numRuns ?? 50,
          ...(options.seed !== undefined ? { seed: options.seed } : {}),
          ...(options.path !== undefined ? { path: options.path } : {}),
          ...(options.shrink === false ? { endOnFailure: true } : {})
        }),
      catch: (e) => new ConformanceFailure({ message: e instanceof Error ? e.message : String(e) })
    })
  })
