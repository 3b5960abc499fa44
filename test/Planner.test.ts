/**
 * Properties of the state machine, over random event sequences applied through the storage driver
 * (`StorageDriver` over `MemoryStorage`) to a small tree: a root with up to two children and an
 * optional finalize task. Runs are counted per claim, minus graceful releases (a shutdown hands a
 * run back without spending an attempt). After every step the safety invariants of DESIGN.md §3 must hold; after
 * the sequence, a fault-free drain must finish the root (no stuck state).
 */
import * as Effect from "effect/Effect"
import * as fc from "effect/FastCheck"
import { describe, expect, it } from "vitest"
import type { ExecutionRow, NewChild, TaskSpec } from "../src/ExecutionRow.js"
import { makeReady } from "../src/ExecutionRow.js"
import * as MemoryStorage from "../src/MemoryStorage.js"
import * as Planner from "../src/Planner.js"
import type { RetryOptions } from "../src/RetryOptions.js"
import { FINISHED_STATUSES, isFinished } from "../src/TaskStatus.js"
import type { Command, CommandResult, TaskStorage } from "../src/TaskStorage.js"

const ROOT = "r"
const childId = (i: number) => `r.c${i}`
const FINALIZE = Planner.finalizeExecutionIdFor(ROOT)
const TASK_IDS = new Set(["root", "child", "fin"])
const LEEWAY_MS = 100

interface Tree {
  readonly root: TaskSpec
  readonly child: TaskSpec
  readonly finalize: TaskSpec | null
  readonly childCount: number
}

type LeaseChoice = "current" | "stale" | "bogus"
type Action =
  | { readonly _tag: "Advance"; readonly ms: number }
  | { readonly _tag: "Claim"; readonly limit: number }
  | { readonly _tag: "Succeed"; readonly target: number; readonly lease: LeaseChoice }
  | {
    readonly _tag: "Fail"
    readonly target: number
    readonly lease: LeaseChoice
    readonly retryable: boolean
    readonly timedOut: boolean
  }
  | { readonly _tag: "Release"; readonly target: number; readonly lease: LeaseChoice }
  | { readonly _tag: "Expire" }
  | { readonly _tag: "Cancel"; readonly target: number }

const retryArb: fc.Arbitrary<RetryOptions> = fc.record({
  maxAttempts: fc.integer({ min: 0, max: 3 }),
  baseDelayMs: fc.integer({ min: 0, max: 300 }),
  delayMultiplier: fc.constantFrom(1, 1.5, 2),
  maxDelayMs: fc.integer({ min: 0, max: 2_000 })
})
const specArb = (taskId: string): fc.Arbitrary<TaskSpec> =>
  fc.record({
    taskId: fc.constant(taskId),
    timeoutMs: fc.integer({ min: 1, max: 2_000 }),
    retry: retryArb,
    sleepMsBeforeRun: fc.constantFrom(0, 0, 0, 100)
  })
const treeArb: fc.Arbitrary<Tree> = fc.record({
  root: specArb("root"),
  child: specArb("child"),
  finalize: fc.option(specArb("fin"), { nil: null }),
  childCount: fc.integer({ min: 0, max: 2 })
})
/** With a current lease: the n-th running execution; otherwise the n-th of root, children, finalize. */
const target = fc.integer({ min: 0, max: 7 })
const lease = fc.constantFrom<LeaseChoice>("current", "current", "stale", "bogus")
const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    arbitrary: fc.record({ _tag: fc.constant("Advance" as const), ms: fc.integer({ min: 0, max: 3_000 }) }),
    weight: 3
  },
  { arbitrary: fc.record({ _tag: fc.constant("Claim" as const), limit: fc.integer({ min: 1, max: 4 }) }), weight: 5 },
  { arbitrary: fc.record({ _tag: fc.constant("Succeed" as const), target, lease }), weight: 6 },
  {
    arbitrary: fc.record({
      _tag: fc.constant("Fail" as const),
      target,
      lease,
      retryable: fc.boolean(),
      timedOut: fc.boolean()
    }),
    weight: 3
  },
  { arbitrary: fc.record({ _tag: fc.constant("Release" as const), target, lease }), weight: 1 },
  { arbitrary: fc.constant({ _tag: "Expire" as const }), weight: 2 },
  { arbitrary: fc.record({ _tag: fc.constant("Cancel" as const), target }), weight: 1 }
)

/** A harness: the storage, the clock, every lease issued, and the runs started per execution. */
const makeHarness = (tree: Tree) => {
  const storage: TaskStorage["Type"] = MemoryStorage.makeSync()
  let nowMs = 0
  let claims = 0
  const leases = new Map<string, Array<string>>()
  const runs = new Map<string, number>()
  const targets = [ROOT, childId(0), childId(1), FINALIZE]

  const rows = (): Map<string, ExecutionRow> =>
    new Map(Effect.runSync(storage.list({ limit: 1_000 })).map((r) => [r.executionId, r] as const))
  const apply = (command: Command): CommandResult => Effect.runSync(storage.apply([command])).results[0]!
  const claim = (limit: number): ReadonlyArray<ExecutionRow> => {
    const claimed = Effect.runSync(
      storage.claim({
        nowMs,
        limit,
        taskIds: TASK_IDS,
        executorId: "ex",
        claimId: `l${claims++}`,
        leaseLeewayMs: LEEWAY_MS
      })
    )
    for (const row of claimed) {
      leases.set(row.executionId, [...(leases.get(row.executionId) ?? []), row.leaseId!])
      runs.set(row.executionId, (runs.get(row.executionId) ?? 0) + 1)
    }
    return claimed
  }
  const succeeded = (executionId: string, leaseId: string): Planner.Event => {
    const isRoot = executionId === ROOT
    const children: Array<NewChild> = isRoot
      ? Array.from(
        { length: tree.childCount },
        (_, i) => ({ ...tree.child, executionId: childId(i), input: String(i) })
      )
      : []
    return {
      _tag: "RunSucceeded",
      nowMs,
      leaseId,
      runOutput: JSON.stringify(`out:${executionId}`),
      children,
      finalize: isRoot ? tree.finalize : null
    }
  }
  const leaseFor = (executionId: string, choice: LeaseChoice, row: ExecutionRow | undefined): string => {
    if (choice === "current" && row?.leaseId) return row.leaseId
    const stale = (leases.get(executionId) ?? []).filter((l) => l !== row?.leaseId)
    if (choice === "stale" && stale.length > 0) return stale[stale.length - 1]!
    return `bogus:${executionId}`
  }

  Effect.runSync(storage.insert([makeReady({ spec: tree.root, executionId: ROOT, input: "\"in\"", nowMs: 0 })]))
  return {
    rows,
    runs,
    targets,
    apply,
    claim,
    succeeded,
    leaseFor,
    now: () => nowMs,
    advance: (ms: number) => void (nowMs += ms),
    expire: () => Effect.runSync(storage.expire({ nowMs, limit: 100 }))
  }
}

const isActive = (row: ExecutionRow) => !isFinished(row.status)

/** The safety invariants over one snapshot, given the previous snapshot. */
const checkInvariants = (
  tree: Tree,
  before: Map<string, ExecutionRow>,
  after: Map<string, ExecutionRow>,
  runs: Map<string, number>
): void => {
  for (const [id, prev] of before) {
    const next = after.get(id)
    expect(next, `row ${id} vanished`).toBeDefined()
    // Finished states absorb: nothing about a finished row changes again.
    if (isFinished(prev.status)) expect(next, `finished row ${id} changed`).toEqual(prev)
  }
  for (const [id, row] of after) {
    // At most one result: an output only when completed, an error only when finished without success.
    if (row.output !== null) expect(row.status, `${id} has an output`).toBe("completed")
    expect(row.error !== null, `${id} error vs status ${row.status}`).toBe(
      isFinished(row.status) && row.status !== "completed"
    )
    expect(row.isClosed).toBe(isFinished(row.status))
    // Attempts never exceed maxAttempts; runs (claims not handed back by a release) never exceed maxAttempts + 1.
    expect(row.retryAttempts).toBeLessThanOrEqual(row.retry.maxAttempts)
    expect(runs.get(id) ?? 0).toBeLessThanOrEqual(row.retry.maxAttempts + 1)
    // At most one live lease, and only while running.
    expect(row.leaseId !== null).toBe(row.status === "running")
    // A parent completes only after all its children and its finalize task completed.
    if (row.status === "completed" || row.status === "waiting_for_finalize_task") {
      for (const c of row.children) {
        expect(after.get(c.executionId)?.status, `child of completed ${id}`).toBe("completed")
      }
    }
    if (row.status === "completed" && row.finalize !== null) {
      expect(row.finalizeExecutionId).not.toBeNull()
      expect(after.get(row.finalizeExecutionId!)?.status, `finalize of ${id}`).toBe("completed")
    }
    // Nothing under a parent that finished without success is still active.
    if (row.parentExecutionId !== null) {
      const parent = after.get(row.parentExecutionId)!
      if (isFinished(parent.status) && parent.status !== "completed") {
        expect(isActive(row), `${id} under ${parent.status}`).toBe(false)
      }
      if (isActive(row)) {
        expect(parent.status).toBe(row.isFinalize ? "waiting_for_finalize_task" : "waiting_for_children_tasks")
      }
    }
  }
  const root = after.get(ROOT)!
  if (root.status === "completed") {
    const expected = tree.finalize !== null
      ? JSON.stringify(`out:${FINALIZE}`)
      : tree.childCount === 0
      ? JSON.stringify(`out:${ROOT}`)
      : undefined
    if (expected !== undefined) expect(root.output).toBe(expected)
    else {
      const output = JSON.parse(root.output!) as {
        output: string
        childrenOutputs: Array<{ executionId: string; output: string }>
      }
      expect(output.output).toBe(`out:${ROOT}`)
      expect(output.childrenOutputs.map((c) => c.output)).toEqual(
        output.childrenOutputs.map((c) => `out:${c.executionId}`)
      )
      expect(output.childrenOutputs.map((c) => c.executionId)).toEqual(root.children.map((c) => c.executionId))
    }
  }
}

const step = (h: ReturnType<typeof makeHarness>, action: Action): void => {
  switch (action._tag) {
    case "Advance":
      return h.advance(action.ms)
    case "Claim":
      return void h.claim(action.limit)
    case "Expire":
      return void h.expire()
    case "Cancel":
      return void h.apply({
        executionId: h.targets[action.target % h.targets.length]!,
        event: { _tag: "Cancel", nowMs: h.now(), reason: "test" }
      })
    case "Succeed":
    case "Fail":
    case "Release": {
      const before = h.rows()
      const running = [...before.values()].filter((r) => r.status === "running").map((r) => r.executionId).sort()
      const executionId = action.lease === "current" && running.length > 0
        ? running[action.target % running.length]!
        : h.targets[action.target % h.targets.length]!
      const row = before.get(executionId)
      const leaseId = h.leaseFor(executionId, action.lease, row)
      const event: Planner.Event = action._tag === "Succeed"
        ? h.succeeded(executionId, leaseId)
        : action._tag === "Fail"
        ? {
          _tag: "RunFailed",
          nowMs: h.now(),
          leaseId,
          timedOut: action.timedOut,
          error: {
            errorType: action.timedOut ? "timed_out" : "generic",
            message: "boom",
            isRetryable: action.retryable
          }
        }
        : { _tag: "Release", nowMs: h.now(), leaseId }
      const result = h.apply({ executionId, event })
      if (row === undefined) return void expect(result._tag).toBe("NotFound")
      if (row.status === "running" && row.leaseId === leaseId) {
        expect(result._tag).toBe("Applied")
        // A graceful release (shutdown) hands the run back without counting an attempt.
        if (action._tag === "Release") h.runs.set(executionId, h.runs.get(executionId)! - 1)
        return
      }
      // A stale (or made-up) lease changes nothing, anywhere.
      expect(result).toMatchObject({ _tag: "Rejected", reason: "stale_lease" })
      expect(h.rows()).toEqual(before)
      return
    }
  }
}

/** Fault-free: time passes, everything due is claimed and succeeds, until the root finishes. */
const drain = (tree: Tree, h: ReturnType<typeof makeHarness>): void => {
  for (let round = 0; round < 20 && isActive(h.rows().get(ROOT)!); round++) {
    const before = h.rows()
    h.advance(100_000) // past every lease, backoff and sleep
    h.expire()
    for (const row of h.claim(100)) {
      expect(h.apply({ executionId: row.executionId, event: h.succeeded(row.executionId, row.leaseId!) })._tag).toBe(
        "Applied"
      )
    }
    checkInvariants(tree, before, h.rows(), h.runs)
  }
  expect(isActive(h.rows().get(ROOT)!), "the root never finished").toBe(false)
}

describe("Planner through StorageDriver/MemoryStorage", () => {
  it("random event sequences keep the safety invariants, and a fault-free drain finishes the root", () => {
    fc.assert(
      fc.property(treeArb, fc.array(actionArb, { maxLength: 80, size: "max" }), (tree, actions) => {
        const h = makeHarness(tree)
        let before = h.rows()
        for (const action of actions) {
          step(h, action)
          const after = h.rows()
          checkInvariants(tree, before, after, h.runs)
          before = after
        }
        drain(tree, h)
      }),
      { numRuns: 300 }
    )
  })

  it("without faults the whole tree completes with the documented output", () => {
    fc.assert(
      fc.property(treeArb, (tree) => {
        const h = makeHarness(tree)
        drain(tree, h)
        const rows = h.rows()
        expect(rows.get(ROOT)!.status).toBe("completed")
        expect(rows.size).toBe(1 + tree.childCount + (tree.finalize === null ? 0 : 1))
        if (tree.finalize !== null) {
          const finalizeInput = JSON.parse(rows.get(FINALIZE)!.input!) as Record<string, unknown>
          expect(finalizeInput).toEqual({
            input: "in",
            output: `out:${ROOT}`,
            childrenTasksOutputs: Array.from({ length: tree.childCount }, (_, i) => ({
              taskId: "child",
              executionId: childId(i),
              output: `out:${childId(i)}`
            }))
          })
        }
      }),
      { numRuns: 100 }
    )
  })

  it("every event on a finished row is a no-op or a rejection", () => {
    const finishedStatuses = [...FINISHED_STATUSES]
    const eventArb: fc.Arbitrary<Planner.Event> = fc.oneof(
      fc.constant<Planner.Event>({ _tag: "Claim", nowMs: 1e9, leaseId: "l", executorId: "x", leaseLeewayMs: 0 }),
      fc.constant<Planner.Event>({
        _tag: "RunSucceeded",
        nowMs: 1e9,
        leaseId: "l",
        runOutput: "1",
        children: [],
        finalize: null
      }),
      fc.constant<Planner.Event>({
        _tag: "RunFailed",
        nowMs: 1e9,
        leaseId: "l",
        timedOut: false,
        error: { errorType: "generic", message: "m", isRetryable: true }
      }),
      fc.constant<Planner.Event>({ _tag: "Release", nowMs: 1e9, leaseId: "l" }),
      fc.constant<Planner.Event>({ _tag: "LeaseExpired", nowMs: 1e9 }),
      fc.constant<Planner.Event>({ _tag: "Cancel", nowMs: 1e9, reason: "r" }),
      fc.constant<Planner.Event>({ _tag: "ChildSucceeded", nowMs: 1e9, childExecutionId: "c" })
    )
    fc.assert(
      fc.property(fc.constantFrom(...finishedStatuses), eventArb, fc.boolean(), (status, event, withLease) => {
        const spec: TaskSpec = {
          taskId: "t",
          timeoutMs: 10,
          retry: { maxAttempts: 3, baseDelayMs: 0, delayMultiplier: 1, maxDelayMs: 0 },
          sleepMsBeforeRun: 0
        }
        const row: ExecutionRow = {
          ...makeReady({ spec, executionId: "e", input: null, nowMs: 0 }),
          status,
          isClosed: true,
          leaseId: withLease ? "l" : null,
          expiresAt: withLease ? 0 : null
        }
        const outcome = Planner.transition(row, event)
        if (outcome._tag === "Step") {
          expect(outcome.row).toBeUndefined()
          expect(outcome.inserts).toEqual([])
          expect(outcome.followUps).toEqual([])
        }
      })
    )
  })
})
