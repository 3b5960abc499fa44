/**
 * The overview and executions pages, rendered on the server from the same data as the JSON API.
 *
 * @since 0.1.0
 */
import type { ExecutionPage } from "../ExecutionQueries.js"
import { TASK_STATUSES } from "../TaskStatus.js"
import type { ExecutionSummary, MinuteJson, Overview } from "./ApiSchema.js"
import { summaryOf } from "./ApiSchema.js"
import { type Filters, SINCE, toParams } from "./Filters.js"
import { type Html, html } from "./Html.js"
import { badge, executionLink, href, time, type View } from "./Layout.js"

const counts = (view: View, record: Readonly<Record<string, number>>, param: "status" | "task"): Html => {
  const entries = Object.entries(record).sort((a, b) => b[1] - a[1])
  if (entries.length === 0) return html`<p class="muted">No executions yet.</p>`
  return html`<div class="cards">${
    entries.map(([key, n]) =>
      html`<a class="card" data-${param}="${key}" href="${href(view, "/executions", { [param]: key })}">
<span class="n">${n}</span>${param === "status" ? badge(key as never) : html`<span class="mono">${key}</span>`}</a>`
    )
  }</div>`
}

/** The per-minute chart: started and finished bars for each of the last 60 minutes. @since 0.1.0 */
export const chart = (minutes: ReadonlyArray<MinuteJson>): Html => {
  const max = Math.max(1, ...minutes.map((m) => Math.max(m.started, m.finished)))
  const width = 720
  const height = 120
  const slot = width / Math.max(1, minutes.length)
  const bar = (n: number) => Math.round((n / max) * (height - 14))
  return html`<svg class="chart" viewBox="0 0 ${width} ${height + 14}" width="${width}" height="${height + 14}"
role="img" aria-label="executions started and finished per minute over the last hour">
<line x1="0" y1="${height}" x2="${width}" y2="${height}"></line>${
    minutes.map((m, i) => {
      const x = i * slot
      const label = m.minute.toISOString().slice(11, 16)
      return html`<g><title>${label}Z: ${m.started} started, ${m.finished} finished</title>
<rect class="started" x="${(x + 1).toFixed(1)}" y="${height - bar(m.started)}" width="${(slot / 2 - 1).toFixed(1)}"
height="${bar(m.started)}"></rect><rect class="finished" x="${(x + slot / 2).toFixed(1)}"
y="${height - bar(m.finished)}" width="${(slot / 2 - 1).toFixed(1)}" height="${bar(m.finished)}"></rect></g>`
    })
  }<text x="0" y="${height + 12}">${minutes[0]?.minute.toISOString().slice(11, 16) ?? ""}Z</text>
<text x="${width - 40}" y="${height + 12}">now</text><text x="${width - 80}" y="10">max ${max}/min</text></svg>`
}

/** A table of executions. @since 0.1.0 @category utils */
export const table = (view: View, executions: ReadonlyArray<ExecutionSummary>): Html =>
  executions.length === 0
    ? html`<p class="muted">No executions match.</p>`
    : html`<table class="executions"><thead><tr><th>execution</th><th>task</th><th>status</th><th>created</th>
<th>finished</th><th>error</th></tr></thead><tbody>${
      executions.map((e) =>
        html`<tr data-id="${e.executionId}"><td>${executionLink(view, e.executionId)}</td>
<td class="mono">${e.taskId}</td><td>${badge(e.status)}</td><td>${time(e.createdAt)}</td><td>${time(e.finishedAt)}</td>
<td>${e.error?.message.slice(0, 160) ?? ""}</td></tr>`
      )
    }</tbody></table>`

/** The overview's live part. @since 0.1.0 @category pages */
export const overview = (view: View, data: Overview): Html =>
  html`<h2>By status</h2>${counts(view, data.byStatus, "status")}
<h2>By task</h2>${counts(view, data.byTask, "task")}
<h2>Per minute, last hour</h2><div class="legend"><span class="started">■ started</span>
<span class="finished">■ finished</span>${
    data.perMinuteSampled ? html`<span class="muted">(from the first rows only: a busy hour)</span>` : ""
  }</div>${chart(data.perMinute)}
<h2>Latest failures</h2>${table(view, data.latestFailures)}`

/** The filter form of the executions page. @since 0.1.0 @category pages */
export const filterForm = (view: View, filters: Filters, tasks: ReadonlyArray<string>): Html =>
  html`<form class="filters" method="get" action="${href(view, "/executions")}">
<label>status<select name="status"><option value="">any</option>${
    TASK_STATUSES.map((s) => html`<option value="${s}" ${s === filters.status ? "selected" : ""}>${s}</option>`)
  }</select></label>
<label>task<select name="task"><option value="">any</option>${
    [...new Set([...tasks, ...(filters.task === "" ? [] : [filters.task])])].map((t) =>
      html`<option value="${t}" ${t === filters.task ? "selected" : ""}>${t}</option>`
    )
  }</select></label>
<label>created<select name="since"><option value="">any time</option>${
    SINCE.map(([key, label]) =>
      html`<option value="${key}" ${key === filters.since ? "selected" : ""}>${label}</option>`
    )
  }</select></label>
<label>created after<input name="from" value="${filters.from}" placeholder="2026-12-03T12:00Z" size="18"></label>
<label>created before<input name="to" value="${filters.to}" placeholder="ISO 8601 or epoch ms" size="18"></label>
<button type="submit">Filter</button><a href="${href(view, "/executions")}">clear</a></form>`

/** The executions page's live part: the table and the pager. @since 0.1.0 @category pages */
export const executions = (view: View, filters: Filters, page: ExecutionPage): Html => {
  const { cursor: _, ...rest } = filters
  return html`${table(view, page.executions.map(summaryOf))}<div class="pager">${
    filters.cursor === "" ? "" : html`<a href="${view.prefix}/executions${toParams(rest)}">« newest</a>`
  }${
    page.nextCursor === null
      ? html`<span class="muted">end of the list</span>`
      : html`<a rel="next" href="${view.prefix}/executions${toParams(rest, { cursor: page.nextCursor })}">next »</a>`
  }</div>`
}

/** The executions page's actions on the filtered selection. @since 0.1.0 @category pages */
export const selectionActions = (view: View, filters: Filters): Html => {
  if (view.readOnly) return html``
  const { cursor: _, ...rest } = filters
  const hidden = Object.entries(rest).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)
  return html`<form class="actions" method="post" action="${href(view, "/actions/retry-matching")}">${hidden}<button
 type="submit">Retry all matching…</button></form><form class="actions" method="post" action="${
    href(view, "/actions/cancel-matching")
  }">${hidden}<button class="danger" type="submit">Cancel all matching…</button></form>`
}
