/**
 * The queries of the storage port over rows held in memory: the filter of a listing, its order
 * (newest first), the counts, a tree, and which trees a purge may delete. The memory backend runs
 * them; the SQL backend states the same in SQL.
 *
 * @since 0.1.0
 */
import type { ExecutionRow } from "../ExecutionRow.js"
import { isFinished } from "../TaskStatus.js"
import type { ExecutionQuery, ListPosition, PurgeRequest } from "../TaskStorage.js"

/** True when `row` comes after `position` in the listing order. @since 0.1.0 */
export const isAfter = (row: ExecutionRow, position: ListPosition): boolean =>
  row.createdAt < position.createdAt ||
  (row.createdAt === position.createdAt && row.executionId < position.executionId)

/** True when `row` passes every filter of `query` (not its limit). @since 0.1.0 */
export const matches = (row: ExecutionRow, query: ExecutionQuery): boolean =>
  (query.statuses === undefined || query.statuses.includes(row.status)) &&
  (query.taskId === undefined || row.taskId === query.taskId) &&
  (query.rootExecutionId === undefined || row.rootExecutionId === query.rootExecutionId) &&
  (query.parentExecutionId === undefined || row.parentExecutionId === query.parentExecutionId) &&
  (query.createdAfter === undefined || row.createdAt > query.createdAfter) &&
  (query.createdBefore === undefined || row.createdAt < query.createdBefore) &&
  (query.finishedAfter === undefined || (row.finishedAt !== null && row.finishedAt > query.finishedAfter)) &&
  (query.finishedBefore === undefined || (row.finishedAt !== null && row.finishedAt < query.finishedBefore)) &&
  (query.after === undefined || isAfter(row, query.after))

/** The listing order: newest first, then by execution id, descending. @since 0.1.0 */
export const newestFirst = (a: ExecutionRow, b: ExecutionRow): number =>
  b.createdAt - a.createdAt || (a.executionId < b.executionId ? 1 : a.executionId > b.executionId ? -1 : 0)

/** One page of `rows` for `query`. @since 0.1.0 */
export const page = (rows: Iterable<ExecutionRow>, query: ExecutionQuery): ReadonlyArray<ExecutionRow> => {
  const out: Array<ExecutionRow> = []
  for (const row of rows) if (matches(row, query)) out.push(row)
  return out.sort(newestFirst).slice(0, Math.max(0, query.limit))
}

/** Counts of `rows` per status or task id. @since 0.1.0 */
export const countBy = (rows: Iterable<ExecutionRow>, by: "status" | "taskId"): Record<string, number> => {
  const counts: Record<string, number> = {}
  for (const row of rows) {
    const key = by === "status" ? row.status : row.taskId
    counts[key] = (counts[key] ?? 0) + 1
  }
  return counts
}

/** The root `rootExecutionId` and its descendants among `rows`. @since 0.1.0 */
export const tree = (rows: Iterable<ExecutionRow>, rootExecutionId: string): ReadonlyArray<ExecutionRow> => {
  const out: Array<ExecutionRow> = []
  let root: ExecutionRow | undefined
  for (const row of rows) {
    if (row.executionId === rootExecutionId && row.rootExecutionId === null) root = row
    else if (row.rootExecutionId === rootExecutionId) out.push(row)
  }
  return root === undefined ? [] : [root, ...out]
}

/**
 * The trees a purge deletes: up to `limit` roots (earliest finished first) finished before the
 * bound with one of the statuses, none of whose executions is unfinished; each with its rows.
 *
 * @since 0.1.0
 */
export const purgeable = (
  rows: Iterable<ExecutionRow>,
  request: PurgeRequest
): ReadonlyArray<ReadonlyArray<ExecutionRow>> => {
  const trees = new Map<string, Array<ExecutionRow>>()
  const unfinished = new Set<string>()
  for (const row of rows) {
    const root = row.rootExecutionId ?? row.executionId
    if (!isFinished(row.status)) unfinished.add(root)
    let members = trees.get(root)
    if (members === undefined) trees.set(root, members = [])
    if (row.rootExecutionId === null) members.unshift(row)
    else members.push(row)
  }
  const roots: Array<ExecutionRow> = []
  for (const [id, members] of trees) {
    const root = members[0]
    if (root === undefined || root.rootExecutionId !== null || unfinished.has(id)) continue
    if (!request.statuses.includes(root.status) || root.finishedAt === null) continue
    if (root.finishedAt < request.finishedBefore) roots.push(root)
  }
  roots.sort((a, b) => a.finishedAt! - b.finishedAt!)
  return roots.slice(0, Math.max(0, request.limit)).map((r) => trees.get(r.executionId)!)
}
