/**
 * A tree of executions, for a CLI or a page to draw: an execution, its children in their order,
 * and its finalize task, each with its own subtree.
 *
 * @since 0.1.0
 */
import type { ExecutionRow } from "./ExecutionRow.js"

/** @since 0.1.0 @category models */
export interface ExecutionTreeNode<E> {
  readonly execution: E
  /** The children, by their index in the parent. */
  readonly children: ReadonlyArray<ExecutionTreeNode<E>>
  readonly finalize?: ExecutionTreeNode<E>
}

/**
 * The subtree at `executionId` of a tree's rows (any order), each row mapped with `view`;
 * undefined when the rows do not hold it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const build = <E>(
  rows: ReadonlyArray<ExecutionRow>,
  executionId: string,
  view: (row: ExecutionRow) => E
): ExecutionTreeNode<E> | undefined => {
  const byParent = new Map<string, Array<ExecutionRow>>()
  let top: ExecutionRow | undefined
  for (const row of rows) {
    if (row.executionId === executionId) top = row
    if (row.parentExecutionId === null) continue
    let siblings = byParent.get(row.parentExecutionId)
    if (siblings === undefined) byParent.set(row.parentExecutionId, siblings = [])
    siblings.push(row)
  }
  const node = (row: ExecutionRow): ExecutionTreeNode<E> => {
    const under = byParent.get(row.executionId) ?? []
    const children = under.filter((r) => !r.isFinalize).sort((a, b) => a.indexInParent - b.indexInParent)
    const finalize = under.find((r) => r.isFinalize)
    const out: { -readonly [K in keyof ExecutionTreeNode<E>]: ExecutionTreeNode<E>[K] } = {
      execution: view(row),
      children: children.map(node)
    }
    if (finalize !== undefined) out.finalize = node(finalize)
    return out
  }
  return top === undefined ? undefined : node(top)
}
