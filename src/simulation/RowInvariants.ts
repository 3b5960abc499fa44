/**
 * The state invariants of one stored row after a commit, with its parent and children
 * (DESIGN.md §3): lease fields match the status, attempts stay in range, outputs and errors match
 * the status, nothing is active under a finished parent, and a parent's counts and order are exact.
 *
 * @since 0.1.0
 */
import type { ExecutionRow } from "../ExecutionRow.js"
import { isFinished } from "../TaskStatus.js"

const parses = (text: string | null): boolean => {
  if (text === null) return true
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

/**
 * Calls `bad` with each invariant `row` breaks, given every row as of the commit.
 *
 * @since 0.1.0
 * @category checks
 */
export const checkRow = (
  row: ExecutionRow,
  rows: ReadonlyMap<string, ExecutionRow>,
  bad: (what: string) => void
): void => {
  const running = row.status === "running"
  // A sleeping execution runs with no lease and no executor, until its expiresAt (its timeout).
  const leased = running && row.sleepId === null
  if (
    leased !== (row.leaseId !== null) || running !== (row.expiresAt !== null) ||
    (running && leased === (row.executorId === null))
  ) {
    bad(`lease fields do not match the status (lease ${String(row.leaseId)}, expires ${String(row.expiresAt)})`)
  }
  const finished = isFinished(row.status)
  if (row.isClosed !== finished) bad(`isClosed is ${String(row.isClosed)}`)
  if (row.retryAttempts < 0 || row.retryAttempts > row.retry.maxAttempts) {
    bad(`retryAttempts ${row.retryAttempts} outside 0..maxAttempts ${row.retry.maxAttempts}`)
  }
  if (row.status === "completed" ? row.error !== null : finished && row.error === null) {
    bad("error does not match the status")
  }
  if (row.status !== "completed" && row.output !== null) bad("an output is recorded without completion")
  if (!parses(row.input) || !parses(row.output) || !parses(row.runOutput)) bad("a stored value is not valid JSON")

  // Nothing active under a finished parent (a cancel or failure finishes the whole subtree).
  if (row.parentExecutionId !== null) {
    const parent = rows.get(row.parentExecutionId)
    if (parent === undefined) bad(`its parent ${row.parentExecutionId} does not exist`)
    else if (!finished && isFinished(parent.status)) {
      bad(`still active under parent ${parent.executionId}, which is ${parent.status}`)
    }
  }
  const children = row.children.map((c) => rows.get(c.executionId))
  const finalize = row.finalizeExecutionId === null ? undefined : rows.get(row.finalizeExecutionId)
  if (finished) {
    children.forEach((child, i) => {
      if (child !== undefined && !isFinished(child.status)) {
        bad(`its child ${row.children[i]!.executionId} is still ${child.status}`)
      }
    })
    if (finalize !== undefined && !isFinished(finalize.status)) bad(`its finalize task is still ${finalize.status}`)
  }
  if (row.status === "waiting_for_children_tasks" || row.status === "completed") {
    children.forEach((child, i) => {
      if (child === undefined) bad(`its child ${row.children[i]!.executionId} does not exist`)
    })
    const completed = children.filter((c) => c?.status === "completed").length
    if (row.completedChildren !== completed) {
      bad(`completedChildren is ${row.completedChildren}, but ${completed} children completed`)
    }
  }
  if (row.status === "waiting_for_children_tasks" && row.completedChildren >= row.children.length) {
    bad("still waits for its children, though all of them completed")
  }
  if (row.status === "completed") {
    if (children.some((c) => c?.status !== "completed")) bad("completed before all its children completed")
    if (row.finalize !== null && finalize?.status !== "completed") bad("completed before its finalize task completed")
  }
  if (row.status === "waiting_for_finalize_task") {
    if (finalize === undefined || isFinished(finalize.status)) {
      bad(`its finalize task is ${finalize?.status ?? "missing"}`)
    }
    if (children.some((c) => c?.status !== "completed")) {
      bad("waits for its finalize task before all its children completed")
    }
  }
}
