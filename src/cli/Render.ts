/**
 * The text views of executions: a table row for `list`, the details and attempts for `show`, the
 * drawn tree for `tree`.
 *
 * @since 0.1.0
 */
import type { TaskExecutionTree } from "../ExecutionQueries.js"
import type { ExecutionError } from "../ExecutionRow.js"
import type { TaskExecution } from "../TaskExecution.js"
import { duration, type Painter, table, time, value } from "./Output.js"

const took = (e: { readonly startedAt?: Date | undefined; readonly finishedAt?: Date | undefined }) =>
  e.startedAt !== undefined && e.finishedAt !== undefined
    ? duration(e.finishedAt.getTime() - e.startedAt.getTime())
    : ""

const errorLine = (error: ExecutionError | undefined) =>
  error === undefined ? "" : `${error.errorType === "generic" ? "" : `${error.errorType}: `}${error.message}`

/** The `list` table. @since 0.1.0 @category views */
export const listTable = (p: Painter, executions: ReadonlyArray<TaskExecution>): ReadonlyArray<string> =>
  table(
    p,
    ["EXECUTION", "TASK", "STATUS", "CREATED", "TOOK", "ATTEMPTS", "ERROR"],
    executions.map((e) => [
      e.executionId,
      e.taskId,
      p.status(e.status),
      time(e.createdAt),
      took(e),
      String(e.attemptCount),
      p.paint("red", errorLine(e.error).split("\n")[0]!.slice(0, 120))
    ])
  )

const indent = (text: string, by: string) => text.split("\n").map((l) => by + l).join("\n")

/** The `show` view: fields, values, then every kept attempt with its error's stack. @since 0.1.0 @category views */
export const details = (p: Painter, e: TaskExecution): ReadonlyArray<string> => {
  const fields: Array<[string, string]> = [
    ["task", e.taskId],
    ["status", p.status(e.status)],
    ["created", time(e.createdAt)],
    ["start at", time(e.startAt)],
    ["started", time(e.startedAt)],
    ["finished", e.finishedAt === undefined ? "-" : `${time(e.finishedAt)}${took(e) === "" ? "" : ` (${took(e)})`}`]
  ]
  if (e.rootTaskExecution !== undefined) {
    fields.push(["root", `${e.rootTaskExecution.executionId} (${e.rootTaskExecution.taskId})`])
  }
  if (e.parentTaskExecution !== undefined) {
    const parent = e.parentTaskExecution
    const role = parent.isFinalizeTaskOfParentTask
      ? "finalize task"
      : `child ${parent.indexInParentChildTaskExecutions}`
    fields.push(["parent", `${parent.executionId} (${parent.taskId}), ${role}`])
  }
  if (e.childrenTaskExecutions !== undefined) {
    fields.push([
      "children",
      `${e.childrenTaskExecutions.length} (${e.completedChildrenTaskExecutions ?? 0} completed)`
    ])
  }
  if (e.finalizeTaskExecution !== undefined) {
    fields.push(["finalize", `${e.finalizeTaskExecution.executionId} (${e.finalizeTaskExecution.taskId})`])
  }
  if (e.executorId !== undefined) fields.push(["executor", e.executorId])
  fields.push(["retries", `${e.retryAttempts} of ${e.retryOptions.maxAttempts}`])
  fields.push(["timeout", duration(e.timeoutMs)])
  fields.push(["input", value(e.runInput)])
  if (e.runOutput !== undefined) fields.push(["run output", value(e.runOutput)])
  if (e.output !== undefined) fields.push(["output", value(e.output)])
  if (e.error !== undefined) fields.push(["error", p.paint("red", errorLine(e.error))])
  const width = Math.max(...fields.map(([k]) => k.length))
  const lines = [
    `${p.paint("bold", "execution")} ${e.executionId}`,
    ...fields.map(([k, v]) => `  ${p.paint("dim", k.padEnd(width))}  ${v}`)
  ]
  const kept = e.attempts.length
  lines.push(
    p.paint("bold", `attempts (${kept === e.attemptCount ? kept : `last ${kept} of ${e.attemptCount}`})`)
  )
  if (kept === 0) lines.push("  none ended")
  for (const a of e.attempts) {
    const head = `  #${a.attempt}  ${time(a.startedAt)}  ${duration(a.finishedAt.getTime() - a.startedAt.getTime())}` +
      `  ${a.executorId ?? "-"}  ${p.status(a.status)}`
    lines.push(head)
    if (a.error !== undefined) {
      lines.push(p.paint("red", indent(a.error.stack ?? errorLine(a.error), "      ")))
    }
  }
  return lines
}

const node = (p: Painter, e: TaskExecution) => {
  const extra = [took(e), e.attemptCount > 1 ? `${e.attemptCount} attempts` : ""].filter((s) => s !== "")
  const error = errorLine(e.error).split("\n")[0]!
  return `${e.taskId} ${p.paint("dim", e.executionId)} ${p.status(e.status)}` +
    (extra.length > 0 ? ` (${extra.join(", ")})` : "") + (error === "" ? "" : ` ${p.paint("red", error)}`)
}

/** The `tree` view: one line per execution, children in order, the finalize task last. @since 0.1.0 @category views */
export const treeLines = (p: Painter, tree: TaskExecutionTree): ReadonlyArray<string> => {
  const lines = [node(p, tree.execution)]
  const walk = (t: TaskExecutionTree, prefix: string) => {
    const under: Array<[string, TaskExecutionTree]> = t.children.map((c) => ["", c])
    if (t.finalize !== undefined) under.push(["finalize: ", t.finalize])
    under.forEach(([label, child], i) => {
      const last = i === under.length - 1
      lines.push(`${prefix}${last ? "└─ " : "├─ "}${label}${node(p, child.execution)}`)
      walk(child, prefix + (last ? "   " : "│  "))
    })
  }
  walk(tree, "")
  return lines
}
