/**
 * The attempt history, on the pure planner: every transition that ends a running row's attempt
 * records it (start at the claim, end at the event, executor, outcome, error and bounded stack),
 * a release records none, the history keeps the last 20 with the total, and the row's own error
 * keeps no stack.
 */
import { describe, expect, it } from "vitest"
import { type ExecutionError, type ExecutionRow, makeReady, STACK_MAX_CHARS } from "../src/ExecutionRow.js"
import * as Planner from "../src/Planner.js"

const spec = {
  taskId: "t",
  timeoutMs: 100,
  retry: { maxAttempts: 30, baseDelayMs: 0, delayMultiplier: 1, maxDelayMs: 0 },
  sleepMsBeforeRun: 0
}

const rowOf = (outcome: Planner.Step | Planner.Rejected): ExecutionRow => {
  if (outcome._tag !== "Step" || outcome.row === undefined) throw new Error(`no row: ${JSON.stringify(outcome)}`)
  return outcome.row
}

const claim = (row: ExecutionRow, nowMs: number, lease = `l${nowMs}`) =>
  rowOf(Planner.transition(row, { _tag: "Claim", nowMs, leaseId: lease, executorId: `x${nowMs}`, leaseLeewayMs: 10 }))

const boom = (n: number, stack?: string): ExecutionError => ({
  errorType: "generic",
  message: `boom ${n}`,
  isRetryable: true,
  ...(stack === undefined ? {} : { stack })
})

const fail = (row: ExecutionRow, nowMs: number, error: ExecutionError) =>
  rowOf(Planner.transition(row, { _tag: "RunFailed", nowMs, leaseId: row.leaseId!, error, timedOut: false }))

describe("attempt history", () => {
  it("records a failed attempt with its stack, and keeps the stack out of the row's errors", () => {
    const ready = makeReady({ spec, executionId: "e", input: null, nowMs: 0 })
    expect(ready.attempts).toBeNull()
    const retried = fail(claim(ready, 10), 25, boom(1, "Error: boom 1\n    at f"))
    expect(retried.status).toBe("ready")
    expect(retried.attempts).toEqual({
      total: 1,
      recent: [{
        attempt: 1,
        startedAt: 10,
        finishedAt: 25,
        executorId: "x10",
        status: "ready",
        error: boom(1, "Error: boom 1\n    at f")
      }]
    })
    expect(retried.prevError).toEqual(boom(1))
    const done = rowOf(
      Planner.transition(claim(retried, 30), {
        _tag: "RunSucceeded",
        nowMs: 40,
        leaseId: "l30",
        runOutput: "1",
        children: [],
        finalize: null
      })
    )
    expect(done.attempts?.total).toBe(2)
    expect(done.attempts?.recent[1]).toEqual({
      attempt: 2,
      startedAt: 30,
      finishedAt: 40,
      executorId: "x30",
      status: "completed"
    })
  })

  it("bounds the stack to 8 KB and the history to the last 20 attempts, with the total", () => {
    let row = makeReady({ spec, executionId: "e", input: null, nowMs: 0 })
    for (let i = 1; i <= 25; i++) row = fail(claim(row, i * 10), i * 10 + 5, boom(i, "x".repeat(20_000)))
    expect(row.attempts?.total).toBe(25)
    expect(row.attempts?.recent.map((a) => a.attempt)).toEqual(Array.from({ length: 20 }, (_, i) => i + 6))
    expect(row.attempts?.recent.every((a) => a.error?.stack?.length === STACK_MAX_CHARS)).toBe(true)
    expect(row.attempts?.recent[19]?.error?.message).toBe("boom 25")
  })

  it("records a lease expiry and a cancel of a running row, not a release or a cancel of a ready one", () => {
    const ready = makeReady({ spec, executionId: "e", input: null, nowMs: 0 })
    const released = rowOf(Planner.transition(claim(ready, 10), { _tag: "Release", nowMs: 20, leaseId: "l10" }))
    expect(released.attempts).toBeNull()
    const expired = rowOf(Planner.transition(claim(released, 30), { _tag: "LeaseExpired", nowMs: 500 }))
    expect(expired.attempts?.recent).toEqual([{
      attempt: 1,
      startedAt: 30,
      finishedAt: 500,
      executorId: "x30",
      status: "ready",
      error: expect.objectContaining({ errorType: "timed_out" })
    }])
    const cancelledReady = rowOf(Planner.transition(expired, { _tag: "Cancel", nowMs: 600, reason: "r" }))
    expect(cancelledReady.attempts).toBe(expired.attempts)
    const cancelledRunning = rowOf(Planner.transition(claim(expired, 700), { _tag: "Cancel", nowMs: 800, reason: "r" }))
    expect(cancelledRunning.attempts?.recent[1]).toMatchObject({
      attempt: 2,
      startedAt: 700,
      finishedAt: 800,
      status: "cancelled",
      error: { errorType: "cancelled", message: "r" }
    })
  })
})
