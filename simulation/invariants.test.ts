import * as Effect from "effect/Effect"
import { describe, expect, it } from "vitest"
import { type ExecutionRow, makeReady } from "../src/ExecutionRow.js"
import * as MemoryStorage from "../src/MemoryStorage.js"
import { Coverage } from "../src/simulation/Coverage.js"
import { Checker, observe, withOrigin } from "../src/simulation/Invariants.js"
import { Timeline } from "../src/simulation/SimulatedTime.js"
import { Trace } from "../src/simulation/Trace.js"
import * as StorageDriver from "../src/StorageDriver.js"
import type { Command } from "../src/TaskStorage.js"

const spec = {
  taskId: "t",
  timeoutMs: 1_000,
  retry: { maxAttempts: 1, baseDelayMs: 0, delayMultiplier: 1, maxDelayMs: 0 },
  sleepMsBeforeRun: 0
}

const setup = () => {
  const timeline = new Timeline()
  const coverage = new Coverage()
  const checker = new Checker(timeline, coverage, new Trace(0))
  return { timeline, coverage, checker }
}
const ready = (id: string, parent?: ExecutionRow, index = 0): ExecutionRow =>
  makeReady({
    spec,
    executionId: id,
    input: null,
    nowMs: 0,
    ...(parent ? { parent: { row: parent, index, isFinalize: false } } : {})
  })
const running = (row: ExecutionRow, leaseId: string): ExecutionRow => ({
  ...row,
  status: "running",
  leaseId,
  executorId: "ex0",
  expiresAt: 2_000
})
const finished = (row: ExecutionRow, status: ExecutionRow["status"]): ExecutionRow => ({
  ...row,
  status,
  isClosed: true,
  leaseId: null,
  expiresAt: null,
  output: status === "completed" ? "1" : null,
  error: status === "completed" ? null : { errorType: "generic", message: "x", isRetryable: false }
})
const insert = (checker: Checker, rows: ReadonlyArray<ExecutionRow>) =>
  checker.commit({ origin: "client", op: "insert" }, { updated: [], inserted: rows }, undefined)
const claim = (checker: Checker, pre: ExecutionRow, leaseId: string) => {
  const row = running(pre, leaseId)
  checker.commit({ origin: "ex0", op: "claim", nowMs: 0 }, { updated: [row], inserted: [] }, [row])
  return row
}
const finishCommand = (row: ExecutionRow, leaseId: string): Command => ({
  executionId: row.executionId,
  event: { _tag: "RunSucceeded", nowMs: 10, leaseId, runOutput: "1", children: [], finalize: null }
})

describe("the invariant checker", () => {
  it("allows one execution per idempotency key: a second row with a held key is a violation", () => {
    const { checker } = setup()
    const keyed = (id: string, taskId: string) => ({ ...ready(id), taskId, idempotencyKey: "k" })
    insert(checker, [keyed("e1", "t"), keyed("e2", "other")]) // another task may use the key
    expect(checker.violations).toEqual([])
    insert(checker, [keyed("e3", "t")])
    expect(checker.violations.join("\n")).toContain("idempotency key \"k\" of task t is already held by e1")
  })

  it("accepts a clean claim and finish", () => {
    const { checker, coverage } = setup()
    const row = ready("e1")
    insert(checker, [row])
    const claimed = claim(checker, row, "l1")
    checker.commit({ origin: "ex0", op: "apply", commands: [finishCommand(claimed, "l1")] }, {
      updated: [finished(claimed, "completed")],
      inserted: []
    }, {
      results: [{ _tag: "Applied" }],
      changes: { finished: ["e1"], cancelledRunning: [], readyAtMs: null }
    })
    expect(checker.violations).toEqual([])
    expect(coverage.get("ready→running")).toBe(1)
    expect(coverage.get("running→completed")).toBe(1)
  })

  it("flags a stale runner's write that was applied, and counts one that was rejected", () => {
    const { checker, coverage } = setup()
    const row = ready("e1")
    insert(checker, [row])
    const claimed = claim(checker, row, "l2")
    const reply = (tag: "Applied" | "Rejected") => ({
      results: [
        tag === "Applied"
          ? { _tag: "Applied" as const }
          : { _tag: "Rejected" as const, reason: "stale_lease" as const, message: "" }
      ],
      changes: { finished: [], cancelledRunning: [], readyAtMs: null }
    })
    checker.commit({ origin: "ex1", op: "apply", commands: [finishCommand(claimed, "l1")] }, {
      updated: [],
      inserted: []
    }, reply("Rejected"))
    expect(checker.violations).toEqual([])
    expect(coverage.get("fence:stale write rejected")).toBe(1)
    checker.commit({ origin: "ex1", op: "apply", commands: [finishCommand(claimed, "l1")] }, {
      updated: [finished(claimed, "completed")],
      inserted: []
    }, reply("Applied"))
    expect(checker.violations.join("\n")).toContain("stale runner changed a row")
  })

  it("flags a change to a finished execution", () => {
    const { checker } = setup()
    const row = ready("e1")
    insert(checker, [row])
    const done = finished(row, "cancelled")
    checker.commit({ origin: "client", op: "apply", commands: [] }, { updated: [done], inserted: [] }, {
      results: [],
      changes: {}
    })
    expect(checker.violations).toEqual([])
    checker.commit({ origin: "client", op: "apply", commands: [] }, {
      updated: [{ ...done, status: "completed", error: null }],
      inserted: []
    }, { results: [], changes: {} })
    expect(checker.violations.join("\n")).toContain("finished execution e1 (cancelled) was changed to completed")
  })

  it("flags a claim of an execution that is not ready (two leases at once) and a reused lease", () => {
    const { checker } = setup()
    const row = ready("e1")
    insert(checker, [row])
    const claimed = claim(checker, row, "l1")
    claim(checker, claimed, "l1")
    const text = checker.violations.join("\n")
    expect(text).toContain("claim of e1 while it was running")
    expect(text).toContain("which is not fresh")
  })

  it("flags more runs than maxAttempts + 1", () => {
    const { checker } = setup()
    insert(checker, [ready("e1")])
    const info = {
      taskId: "t",
      executionId: "e1",
      attempt: 0,
      prevError: undefined,
      shutdownSignal: new AbortController().signal,
      rootTaskExecution: undefined,
      parentTaskExecution: undefined
    }
    checker.runStarted("ex0", info)
    checker.runStarted("ex0", info)
    expect(checker.violations).toEqual([])
    checker.runStarted("ex0", info)
    expect(checker.violations.join("\n")).toContain("started run 3, over maxAttempts + 1 = 2")
  })

  it("flags a child still active under a failed parent, and a parent completed before its children", () => {
    const { checker } = setup()
    const parent = {
      ...ready("p"),
      status: "waiting_for_children_tasks" as const,
      children: [{ taskId: "t", executionId: "c1" }, { taskId: "t", executionId: "c2" }]
    }
    insert(checker, [ready("p")])
    checker.commit({ origin: "ex0", op: "apply", commands: [] }, {
      updated: [parent],
      inserted: [ready("c1", parent, 0), ready("c2", parent, 1)]
    }, { results: [], changes: {} })
    expect(checker.violations).toEqual([])
    checker.commit({ origin: "ex0", op: "apply", commands: [] }, {
      updated: [finished(parent, "children_tasks_failed")],
      inserted: []
    }, { results: [], changes: {} })
    expect(checker.violations.join("\n")).toContain("its child c1 is still ready")

    const other = setup()
    insert(other.checker, [ready("p")])
    other.checker.commit({ origin: "ex0", op: "apply", commands: [] }, {
      updated: [parent],
      inserted: [ready("c1", parent, 0), ready("c2", parent, 1)]
    }, { results: [], changes: {} })
    other.checker.commit({ origin: "ex0", op: "apply", commands: [] }, {
      updated: [{ ...finished(parent, "completed"), completedChildren: 0 }],
      inserted: []
    }, { results: [], changes: {} })
    expect(other.checker.violations.join("\n")).toContain("completed before all its children completed")
  })

  it("flags an execution that outstays its liveness bound once faults stopped", () => {
    const { checker, timeline } = setup()
    insert(checker, [ready("e1")])
    checker.startLiveness({ fromMs: 0, offsetAllowanceMs: 0, pollIntervalMs: 500, leaseLeewayMs: 100, slackMs: 0 })
    // (maxAttempts 1 + 1) × (timeout 1000 + leeway 100 + backoff 0) + poll 500 = 2 700
    checker.checkLiveness(2_700)
    expect(checker.violations).toEqual([])
    timeline.nowMs = 2_701
    checker.checkLiveness(2_701)
    expect(checker.violations.join("\n")).toContain("liveness: execution e1 (t) is still ready")
  })

  it("observes every write of a real storage backend", () => {
    const { checker } = setup()
    const storage = withOrigin(StorageDriver.make(observe(MemoryStorage.makeBackend(), checker)), "client")
    const rows = Effect.runSync(Effect.gen(function*() {
      yield* storage.insert([ready("e1"), ready("e2")])
      yield* storage.claim({
        nowMs: 0,
        limit: 1,
        taskIds: new Set(["t"]),
        executorId: "ex0",
        claimId: "c1",
        leaseLeewayMs: 100
      })
      yield* storage.apply([{ executionId: "e2", event: { _tag: "Cancel", nowMs: 1, reason: "test" } }])
      return yield* storage.list({ limit: 10 })
    }))
    expect(checker.rows.get("e1")?.status).toBe("running")
    expect(checker.rows.get("e2")?.status).toBe("cancelled")
    checker.compareWith(rows)
    expect(checker.violations).toEqual([])
  })
})
