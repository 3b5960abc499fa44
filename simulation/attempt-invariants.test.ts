// The checks added for exact attempts, backoff, leeway, runner interruption, dropped finishes and
// waits, each shown failing on a hand-made history (the planted bugs show them on the real engine).
import { describe, expect, it } from "vitest"
import { type ExecutionRow, makeReady } from "../src/ExecutionRow.js"
import { expectedBackoffMs } from "../src/simulation/AttemptInvariants.js"
import { Coverage } from "../src/simulation/Coverage.js"
import { Checker } from "../src/simulation/Invariants.js"
import type { ProcessHealth } from "../src/simulation/RunMonitor.js"
import { Timeline } from "../src/simulation/SimulatedTime.js"
import { Trace } from "../src/simulation/Trace.js"
import { WaitTracker } from "../src/simulation/Waits.js"
import type { Command } from "../src/TaskStorage.js"

const retry = { maxAttempts: 2, baseDelayMs: 100, delayMultiplier: 3, maxDelayMs: 10_000 }
const spec = { taskId: "t", timeoutMs: 1_000, retry, sleepMsBeforeRun: 0 }

const setup = () => {
  const timeline = new Timeline()
  const checker = new Checker(timeline, new Coverage(), new Trace(0))
  checker.retryOf = () => retry
  const health: { current: ProcessHealth } = {
    current: { marks: 0, hardMarks: 0, busyUntilMs: 0, paused: false, active: true, pollIntervalMs: 1_000 }
  }
  checker.runs.health = () => health.current
  return { timeline, checker, health }
}
const insert = (checker: Checker, row: ExecutionRow) =>
  checker.commit({ origin: "client", op: "insert" }, { updated: [], inserted: [row] }, undefined)
const claim = (
  checker: Checker,
  pre: ExecutionRow,
  leaseId: string,
  nowMs: number,
  leewayMs: number,
  expiresAt?: number
) => {
  const row: ExecutionRow = {
    ...pre,
    status: "running",
    leaseId,
    executorId: "ex0",
    expiresAt: expiresAt ?? nowMs + pre.timeoutMs + leewayMs
  }
  checker.commit({ origin: "ex0", op: "claim", nowMs, leaseLeewayMs: leewayMs }, { updated: [row], inserted: [] }, [
    row
  ])
  return row
}
const fail = (checker: Checker, running: ExecutionRow, nowMs: number, next: Partial<ExecutionRow>) => {
  const error = { errorType: "generic" as const, message: "boom", isRetryable: true }
  const command: Command = {
    executionId: running.executionId,
    event: { _tag: "RunFailed", nowMs, leaseId: running.leaseId!, error, timedOut: false }
  }
  const row: ExecutionRow = {
    ...running,
    status: "ready",
    leaseId: null,
    executorId: null,
    expiresAt: null,
    prevError: error,
    ...next
  }
  checker.commit({ origin: "ex0", op: "apply", commands: [command] }, { updated: [row], inserted: [] }, {
    results: [{ _tag: "Applied" }],
    changes: { finished: [], cancelledRunning: [], readyAtMs: null }
  })
  return row
}
const info = (executionId: string, attempt = 0) => ({
  taskId: "t",
  executionId,
  attempt,
  prevError: undefined,
  shutdownSignal: new AbortController().signal,
  rootTaskExecution: undefined,
  parentTaskExecution: undefined
})

/** Moves time to `nowMs`, checks the runners' and finishes' bounds, and returns the violations. */
const overdueAt = (checker: Checker, timeline: Timeline, nowMs: number): ReadonlyArray<string> => {
  timeline.nowMs = nowMs
  checker.runs.checkOverdue(nowMs)
  return checker.violations
}

describe("exact attempts and times", () => {
  it("computes the backoff on its own: min(base × multiplier^n, max)", () => {
    expect([0, 1, 2, 3].map((n) => expectedBackoffMs(retry, n))).toEqual([100, 300, 900, 2_700])
    expect(expectedBackoffMs({ ...retry, maxDelayMs: 500 }, 2)).toBe(500)
  })

  it("accepts a retry due exactly its backoff after the failure, and flags one off by an exponent", () => {
    const { checker } = setup()
    const row = makeReady({ spec, executionId: "e1", input: null, nowMs: 0 })
    insert(checker, row)
    const first = fail(checker, claim(checker, row, "l1", 0, 500), 400, { retryAttempts: 1, startAt: 500 })
    expect(checker.violations).toEqual([])
    fail(checker, claim(checker, first, "l2", 500, 500), 900, { retryAttempts: 2, startAt: 900 + 900 })
    expect(checker.violations.join("\n")).toContain(
      "retry 2 is due at 1800, but the attempt failed at 900 and its backoff is 300 ms"
    )
  })

  it("flags a retry that counts no attempt, a retry past maxAttempts, and a retryable failure given up early", () => {
    const { checker } = setup()
    const row = makeReady({ spec, executionId: "e1", input: null, nowMs: 0 })
    insert(checker, row)
    fail(checker, claim(checker, row, "l1", 0, 500), 400, { retryAttempts: 0, startAt: 500 })
    expect(checker.violations.join("\n")).toContain("retried, but retryAttempts went 0 → 0")

    const other = setup()
    const r2 = makeReady({ spec, executionId: "e2", input: null, nowMs: 0 })
    insert(other.checker, r2)
    const running = claim(other.checker, r2, "l1", 0, 500)
    const error = { errorType: "generic" as const, message: "boom", isRetryable: true }
    const failed: ExecutionRow = { ...running, status: "failed", isClosed: true, leaseId: null, expiresAt: null, error }
    other.checker.commit(
      {
        origin: "ex0",
        op: "apply",
        commands: [{
          executionId: "e2",
          event: { _tag: "RunFailed", nowMs: 400, leaseId: "l1", error, timedOut: false }
        }]
      },
      { updated: [failed], inserted: [] },
      { results: [{ _tag: "Applied" }], changes: {} }
    )
    expect(other.checker.violations.join("\n")).toContain(
      "gave up after 0 retries of a retryable error, with maxAttempts 2"
    )
  })

  it("flags stored retry options that differ from the task's", () => {
    const { checker } = setup()
    insert(
      checker,
      makeReady({ spec: { ...spec, retry: { ...retry, maxAttempts: 3 } }, executionId: "e1", input: null, nowMs: 0 })
    )
    expect(checker.violations.join("\n")).toContain("stored retry options")
  })

  it("flags a claim whose lease ignores the process's leeway", () => {
    const { checker } = setup()
    const row = makeReady({ spec, executionId: "e1", input: null, nowMs: 0 })
    insert(checker, row)
    claim(checker, row, "l1", 10, 500, 10 + 1_000)
    expect(checker.violations.join("\n")).toContain("lease until 1010, but timeout 1000 + leeway 500 of ex0 give 1510")
  })
})

describe("runners and finishes", () => {
  const cancelWhileRunning = () => {
    const s = setup()
    const row = makeReady({ spec, executionId: "e1", input: null, nowMs: 0 })
    insert(s.checker, row)
    const running = claim(s.checker, row, "l1", 0, 500)
    const run = s.checker.runStarted("ex0", info("e1"))
    const error = { errorType: "cancelled" as const, message: "cancelled", isRetryable: false }
    const cancelled: ExecutionRow = {
      ...running,
      status: "cancelled",
      isClosed: true,
      leaseId: null,
      expiresAt: null,
      error
    }
    s.checker.commit(
      {
        origin: "client",
        op: "apply",
        commands: [{ executionId: "e1", event: { _tag: "Cancel", nowMs: 0, reason: "x" } }]
      },
      { updated: [cancelled], inserted: [] },
      { results: [{ _tag: "Applied" }], changes: {} }
    )
    return { ...s, run }
  }

  it("flags a runner that goes on after its process got the cancel wake-up", () => {
    const { checker, timeline, run } = cancelWhileRunning()
    checker.runs.cancelDelivered("ex0", ["e1"])
    timeline.nowMs = 50
    checker.runEnded(run, "succeeded")
    expect(checker.violations.join("\n")).toContain("went on after its cancel")
  })

  it("accepts a runner that stops at once, or whose process was paused", () => {
    const stopped = cancelWhileRunning()
    stopped.checker.runs.cancelDelivered("ex0", ["e1"])
    stopped.checker.runEnded(stopped.run, "interrupted")
    expect(stopped.checker.violations).toEqual([])
    const paused = cancelWhileRunning()
    paused.checker.runs.cancelDelivered("ex0", ["e1"])
    paused.health.current = { ...paused.health.current, paused: true, marks: 1, hardMarks: 1 }
    paused.timeline.nowMs = 5_000
    paused.checker.runs.checkOverdue(5_000)
    expect(paused.checker.violations).toEqual([])
  })

  it("flags a runner never told (no wake-up) that outlives its lease-watch polls", () => {
    const { checker, timeline } = cancelWhileRunning()
    expect(overdueAt(checker, timeline, 2_000)).toEqual([])
    overdueAt(checker, timeline, 2_200)
    expect(checker.violations.join("\n")).toContain("past 2 × (poll interval + slowest call) + 100 = 2100 ms")
  })

  it("flags a finish that was never written, unless the process was busy, paused or gone", () => {
    const { checker, timeline, health } = setup()
    const row = makeReady({ spec, executionId: "e1", input: null, nowMs: 0 })
    insert(checker, row)
    claim(checker, row, "l1", 0, 500)
    checker.runEnded(checker.runStarted("ex0", info("e1")), "succeeded")
    health.current = { ...health.current, marks: 3, busyUntilMs: 400 }
    expect(overdueAt(checker, timeline, 450)).toEqual([])
    overdueAt(checker, timeline, 501)
    expect(checker.violations.join("\n")).toContain("the finish of e1 (lease l1) was never written")
  })
})

describe("waits", () => {
  it("flags a wait that resolves later than its poll interval after the finish", () => {
    const { checker, timeline } = setup()
    const waits = new WaitTracker(checker)
    const row = makeReady({ spec, executionId: "e1", input: null, nowMs: 0 })
    insert(checker, row)
    const early = waits.started("e1", 1_000, 0)
    const late = waits.started("e1", 1_000, 0)
    timeline.nowMs = 2_000
    const error = { errorType: "cancelled" as const, message: "x", isRetryable: false }
    checker.commit({ origin: "client", op: "apply", commands: [] }, {
      updated: [{ ...row, status: "cancelled", isClosed: true, error }],
      inserted: []
    }, { results: [], changes: {} })
    waits.resolved(early, "cancelled", 3_100)
    expect(checker.violations).toEqual([])
    waits.checkOverdue(3_101)
    expect(checker.violations.join("\n")).toContain(
      "is still open at 3101; the execution finished at 2000, so it was due by 3100"
    )
    waits.resolved(late, "cancelled", 3_200)
    expect(checker.violations).toHaveLength(1)
  })
})

describe("read-back on SQL backends", () => {
  it("names the fields that storage holds otherwise than written (a column the SQL left out)", () => {
    const { checker } = setup()
    const row = makeReady({ spec, executionId: "e1", input: null, nowMs: 0 })
    const written: ExecutionRow = { ...row, prevError: { errorType: "generic", message: "boom", isRetryable: true } }
    checker.readBack([written], [written])
    expect(checker.violations).toEqual([])
    checker.readBack([written], [row])
    expect(checker.violations.join("\n")).toContain(
      "execution e1 was written, but storage holds other values of prevError"
    )
  })
})
