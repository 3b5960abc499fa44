/**
 * The purge invariant: a purge deletes whole finished trees only. Judged after each purge from the
 * checker's mirror of every row and the ids still stored: every deleted row's tree was entirely
 * finished, and deleted whole (root and every descendant).
 *
 * @since 0.1.0
 */
import type { ExecutionRow } from "../ExecutionRow.js"
import { isFinished } from "../TaskStatus.js"

/**
 * The rows of `mirror` a purge deleted (those not in `stored`), and a message for each tree it
 * deleted wrongly.
 *
 * @since 0.1.0
 * @category invariants
 */
export const judgePurge = (
  mirror: ReadonlyMap<string, ExecutionRow>,
  stored: ReadonlySet<string>
): { readonly deleted: ReadonlyArray<string>; readonly violations: ReadonlyArray<string> } => {
  const trees = new Map<string, Array<ExecutionRow>>()
  for (const row of mirror.values()) {
    const root = row.rootExecutionId ?? row.executionId
    let members = trees.get(root)
    if (members === undefined) trees.set(root, members = [])
    members.push(row)
  }
  const deleted: Array<string> = []
  const violations: Array<string> = []
  for (const [root, members] of trees) {
    const gone = members.filter((r) => !stored.has(r.executionId))
    if (gone.length === 0) continue
    deleted.push(...gone.map((r) => r.executionId))
    const open = members.find((r) => !isFinished(r.status))
    if (open !== undefined) {
      violations.push(
        `purge deleted ${gone.map((r) => r.executionId).join(", ")} of tree ${root}, whose execution ` +
          `${open.executionId} is ${open.status}`
      )
    } else if (gone.length !== members.length) {
      const kept = members.filter((r) => stored.has(r.executionId)).map((r) => r.executionId)
      violations.push(`purge deleted part of tree ${root}: ${kept.join(", ")} stayed`)
    }
  }
  return { deleted, violations }
}
