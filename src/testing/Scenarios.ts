/**
 * The conformance kit's scenarios: their types and their fast-check arbitraries. A scenario is a
 * sequence of steps, each one storage call (insert, claim, apply, expire, reads, a clock move) or a
 * race: several calls made at once (claimers together, finishes racing expiries and cancels,
 * enqueues racing claims).
 *
 * @since 0.1.0
 */
import * as fc from "effect/FastCheck"
import type { RetryOptions } from "../RetryOptions.js"
import type { TaskStatus } from "../TaskStatus.js"
import { TASK_STATUSES } from "../TaskStatus.js"

/** The task ids scenarios use (by index). @since 0.1.0 @category models */
export const TASK_IDS = ["alpha", "beta", "gamma"] as const

/** Which lease a finish carries. @since 0.1.0 @category models */
export type LeaseChoice = "current" | "stale" | "foreign"

/**
 * One command of an `Apply` step; `ref` picks a known execution (or, past the end, a missing one). @since 0.1.0
 * @category models
 */
export type CommandSpec =
  | {
    readonly _tag: "Succeed"
    readonly ref: number
    readonly lease: LeaseChoice
    readonly output: string | null
    readonly children: ReadonlyArray<
      { readonly task: number; readonly input: string | null; readonly timeoutMs: number }
    >
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
  | { readonly _tag: "Retry"; readonly ref: number }

/** A new root execution of an insert. @since 0.1.0 @category models */
export interface RootSpec {
  readonly task: number
  readonly input: string | null
  readonly timeoutMs: number
  readonly sleepMs: number
  readonly retry: RetryOptions
  /** Its idempotency key (two keys only, so that roots share them). */
  readonly key?: string | null | undefined
}

/** A claim's parameters. @since 0.1.0 @category models */
export interface ClaimSpec {
  readonly taskMask: number
  readonly limit: number
  readonly leewayMs: number
}

/**
 * One call of a race. A finish targets a running execution (siblings under one parent first) with
 * its current lease; an expiry takes every lapsed lease.
 *
 * @since 0.1.0
 * @category models
 */
export type RaceCall =
  | ({ readonly _tag: "Claim" } & ClaimSpec)
  | { readonly _tag: "Insert"; readonly roots: ReadonlyArray<RootSpec> }
  | {
    readonly _tag: "Finish"
    readonly ref: number
    readonly outcome: "succeed" | "fail" | "retry" | "release"
    readonly children: number
  }
  | { readonly _tag: "Expire" }
  | { readonly _tag: "Cancel"; readonly ref: number }

/** One step of a scenario. @since 0.1.0 @category models */
export type Step =
  | {
    readonly _tag: "Insert"
    readonly roots: ReadonlyArray<RootSpec>
    /** Also include an already stored id: the whole insert must fail with DuplicateExecution. */
    readonly duplicateRef: number | null
  }
  | ({ readonly _tag: "Claim"; readonly executor: number } & ClaimSpec)
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
  /** Calls made at once; their results must be explainable by some serial order. */
  | { readonly _tag: "Race"; readonly calls: ReadonlyArray<RaceCall> }

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
  {
    weight: 1,
    arbitrary: fc.record({ _tag: fc.constant("Cancel" as const), ref, reason: fc.string({ maxLength: 12 }) })
  },
  { weight: 1, arbitrary: fc.record({ _tag: fc.constant("Retry" as const), ref }) }
)
const taskMask = fc.integer({ min: 1, max: 7 })
const roots: fc.Arbitrary<ReadonlyArray<RootSpec>> = fc.array(
  fc.record({
    task: fc.nat({ max: 2 }),
    input: jsonText,
    timeoutMs: fc.integer({ min: 1, max: 10_000 }),
    sleepMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 5_000 })),
    retry,
    key: fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom("k1", "k2") })
  }),
  { minLength: 1, maxLength: 3 }
)
const claimCall = fc.record({
  _tag: fc.constant("Claim" as const),
  taskMask,
  limit: fc.integer({ min: 1, max: 5 }),
  leewayMs: fc.integer({ min: 0, max: 3_000 })
})
const finishCall = fc.record({
  _tag: fc.constant("Finish" as const),
  ref,
  outcome: fc.oneof(
    { weight: 6, arbitrary: fc.constant("succeed" as const) },
    { weight: 1, arbitrary: fc.constant("fail" as const) },
    { weight: 1, arbitrary: fc.constant("retry" as const) },
    { weight: 1, arbitrary: fc.constant("release" as const) }
  ),
  children: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) })
})
/** Several claimers at once; finishes racing an expiry and a cancel; enqueues racing claims. */
const race: fc.Arbitrary<Step> = fc.oneof(
  fc.array(claimCall, { minLength: 2, maxLength: 4 }),
  fc.tuple(
    fc.array(finishCall, { minLength: 2, maxLength: 4 }),
    fc.option(fc.constant({ _tag: "Expire" as const }), { nil: undefined }),
    fc.option(fc.record({ _tag: fc.constant("Cancel" as const), ref }), { freq: 4, nil: undefined })
  ).map(([finishes, expire, cancel]): Array<RaceCall> => [
    ...finishes,
    ...(expire !== undefined ? [expire] : []),
    ...(cancel !== undefined ? [cancel] : [])
  ]),
  fc.tuple(
    fc.array(fc.record({ _tag: fc.constant("Insert" as const), roots }), { minLength: 1, maxLength: 2 }),
    fc.array(claimCall, { minLength: 1, maxLength: 3 })
  ).map(([inserts, claims]): Array<RaceCall> => [...inserts, ...claims])
).map((calls): Step => ({ _tag: "Race", calls }))

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
            roots,
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
        {
          weight: 6,
          arbitrary: fc.record({
            _tag: fc.constant("Apply" as const),
            commands: fc.array(command, { minLength: 1, maxLength: 3 })
          })
        },
        {
          weight: 2,
          arbitrary: fc.record({ _tag: fc.constant("Expire" as const), limit: fc.integer({ min: 1, max: 5 }) })
        },
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
        {
          weight: 1,
          arbitrary: fc.record({ _tag: fc.constant("GetMany" as const), refs: fc.array(ref, { maxLength: 4 }) })
        },
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
        { weight: 1, arbitrary: fc.record({ _tag: fc.constant("NextWake" as const), taskMask }) },
        { weight: 4, arbitrary: race }
      ),
      { minLength: Math.min(10, options.maxSteps ?? 40), maxLength: options.maxSteps ?? 40, size: "max" }
    )
  })
