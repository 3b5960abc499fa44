/**
 * The pages of one execution (status, times, values, error and stack, attempts, parent and
 * children), of its tree (collapsible, failed path highlighted) and the confirm step of actions.
 *
 * @since 0.1.0
 */
import type { TaskExecutionTree } from "../ExecutionQueries.js"
import type { TaskExecution } from "../TaskExecution.js"
import { isFinished } from "../TaskStatus.js"
import { toJsonSafe } from "./ApiSchema.js"
import { FAILED_STATUSES } from "./Data.js"
import { type Html, html, type Part } from "./Html.js"
import { badge, executionLink, href, prettyJson, time, type View } from "./Layout.js"

const failed = (e: TaskExecution) => (FAILED_STATUSES as ReadonlyArray<string>).includes(e.status)

const stackOf = (e: TaskExecution): string | undefined => {
  for (let i = e.attempts.length - 1; i >= 0; i--) {
    const stack = e.attempts[i]!.error?.stack
    if (stack !== undefined) return stack
  }
  return undefined
}

const fact = (name: string, value: Part) => html`<dt>${name}</dt><dd>${value}</dd>`

/** The actions on one execution (none when read-only or finished). @since 0.1.0 @category pages */
export const actions = (view: View, e: TaskExecution): Html => {
  if (view.readOnly) return html``
  const form = (action: string, label: string) =>
    html`<form class="actions" method="post" action="${href(view, `/actions/${action}`)}">
<input type="hidden" name="id" value="${e.executionId}">
<button class="danger" type="submit" id="${action}">${label}</button>
</form>`
  if (!isFinished(e.status)) return form("cancel", "Cancel…")
  return failed(e) || e.status === "cancelled" ? form("retry", "Retry…") : html``
}

/** The live part of an execution's page. @since 0.1.0 @category pages */
export const execution = (view: View, e: TaskExecution, children: ReadonlyArray<TaskExecution>): Html => {
  const stack = stackOf(e)
  return html`<p>${badge(e.status)} <span class="mono">${e.taskId}</span>
· <a href="${href(view, "/tree", { id: e.executionId })}">tree</a></p>${actions(view, e)}
<dl class="facts">${fact("execution", html`<span class="mono" id="execution-id">${e.executionId}</span>`)}
${fact("task", html`<span class="mono">${e.taskId}</span>`)}${fact("created", time(e.createdAt))}
${fact("start at", time(e.startAt))}${fact("started", time(e.startedAt))}${fact("finished", time(e.finishedAt))}
${fact("updated", time(e.updatedAt))}${e.expiresAt ? fact("lease expires", time(e.expiresAt)) : ""}
${fact("executor", e.executorId ?? e.attempts[e.attempts.length - 1]?.executorId ?? "—")}${
    fact("attempts", `${e.attemptCount} (retries left: ${Math.max(0, e.retryOptions.maxAttempts - e.retryAttempts)})`)
  }${fact("timeout", `${e.timeoutMs} ms`)}
${e.rootTaskExecution ? fact("root", executionLink(view, e.rootTaskExecution.executionId)) : ""}
${e.parentTaskExecution ? fact("parent", executionLink(view, e.parentTaskExecution.executionId)) : ""}</dl>
${
    e.error
      ? html`<h2>Error</h2><div class="error" id="error"><strong>${e.error.errorType}</strong>: <span
class="message">${e.error.message}</span></div>${
        stack === undefined ? "" : html`<h3>Stack</h3><pre id="stack">${stack}</pre>`
      }`
      : ""
  }
<h2>Input</h2><div id="input">${prettyJson(toJsonSafe(e.runInput), "input")}</div>
${"runOutput" in e ? html`<h2>Run output</h2>${prettyJson(toJsonSafe(e.runOutput), "run-output")}` : ""}
${"output" in e ? html`<h2>Output</h2><div id="output">${prettyJson(toJsonSafe(e.output), "output")}</div>` : ""}
<h2>Attempts</h2>${
    e.attempts.length === 0 ? html`<p class="muted">No attempt ended yet.</p>` : html`<table class="attempts"><thead>
<tr><th>#</th><th>started</th><th>finished</th><th>took</th><th>executor</th><th>left it</th><th>error</th></tr></thead>
<tbody>${
      e.attempts.map((a) =>
        html`<tr><td>${a.attempt}</td><td>${time(a.startedAt)}</td><td>${time(a.finishedAt)}</td>
<td>${
          a.finishedAt.getTime() - a.startedAt.getTime()
        } ms</td><td class="mono">${a.executorId ?? ""}</td>
<td>${badge(a.status)}</td><td>${a.error?.message ?? ""}${
          a.error?.stack
            ? html`<details data-key="attempt-${a.attempt}"><summary>stack</summary>
<pre>${a.error.stack}</pre></details>`
            : ""
        }</td></tr>`
      )
    }</tbody></table>`
  }${
    e.attemptCount > e.attempts.length
      ? html`<p class="muted">The last ${e.attempts.length} of ${e.attemptCount} attempts.</p>`
      : ""
  }
${
    children.length === 0 ?
      "" :
      html`<h2>Children</h2><table><tbody>${
        children.map((c) =>
          html`<tr><td>${executionLink(view, c.executionId)}</td><td class="mono">${c.taskId}</td>
<td>${badge(c.status)}</td><td>${c.parentTaskExecution?.isFinalizeTaskOfParentTask ? "finalize" : ""}</td></tr>`
        )
      }</tbody></table>`
  }`
}

/** True when the subtree holds an execution that failed (cancelled aside). */
const holdsFailure = (node: TaskExecutionTree): boolean =>
  failed(node.execution) || node.children.some(holdsFailure) || (node.finalize ? holdsFailure(node.finalize) : false)

/** Most nodes drawn in a tree page. @since 0.1.0 @category constants */
export const TREE_NODES_MAX = 2_000

/** The live part of a tree page. @since 0.1.0 @category pages */
export const tree = (view: View, root: TaskExecutionTree, focus: string): Html => {
  let drawn = 0
  const node = (n: TaskExecutionTree, role: string): Html => {
    drawn++
    const e = n.execution
    const cls = `${holdsFailure(n) ? "failed-path" : ""} ${e.executionId === focus ? "focus" : ""}`
    const label = html`${badge(e.status)} <span class="mono">${e.taskId}</span> ${executionLink(view, e.executionId)}
${role === "" ? "" : html`<span class="muted">${role}</span>`}${e.error ? html` <span>${e.error.message}</span>` : ""}`
    const kids = [...n.children.map((c, i) => [c, `#${i}`] as const), ...(n.finalize ? [[n.finalize, "finalize"]] : [])]
    if (kids.length === 0) return html`<li class="leaf ${cls}" data-id="${e.executionId}">${label}</li>`
    const rest = kids.filter(() => drawn < TREE_NODES_MAX)
    return html`<li data-id="${e.executionId}"><details class="${cls}" data-key="${e.executionId}" open>
<summary>${label} <span class="muted">(${n.children.length} children)</span></summary><ul>${
      rest.map(([c, r]) => node(c as TaskExecutionTree, r as string))
    }${rest.length < kids.length ? html`<li class="muted">… more not drawn</li>` : ""}</ul></details></li>`
  }
  return html`<p class="actions"><button type="button" data-toggle-all="open">expand all</button>
<button type="button" data-toggle-all="close">collapse all</button></p><div class="tree"><ul>${
    node(root, "")
  }</ul></div>`
}

/** The confirm step of an action: what it will do, a confirm button posting again with `confirm=1`. @since 0.1.0 */
export const confirm = (view: View, args: {
  readonly action: string
  readonly what: Part
  readonly fields: Readonly<Record<string, string>>
  readonly back: string
}): Html =>
  html`<div class="notice">${args.what}</div><form class="actions" method="post" action="${
    href(view, `/actions/${args.action}`)
  }">${Object.entries(args.fields).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
<input type="hidden" name="confirm" value="1"><button class="danger" type="submit" id="confirm">Confirm</button>
<a href="${args.back}">Back</a></form>`
