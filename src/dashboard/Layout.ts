/**
 * The frame of every page (header, navigation, id search) and small shared pieces: status badges,
 * times, links, pretty JSON truncated with "show all".
 *
 * @since 0.1.0
 */
import type { TaskStatus } from "../TaskStatus.js"
import { type Html, html, type Part } from "./Html.js"

/** What pages need to know about where they are served. @since 0.1.0 @category models */
export interface View {
  /** The path prefix the dashboard is mounted under ("" at the root). */
  readonly prefix: string
  readonly readOnly: boolean
}

/** A link to a dashboard path with a query string. @since 0.1.0 @category utils */
export const href = (view: View, path: string, params: Record<string, string> = {}): string => {
  const query = new URLSearchParams(params).toString()
  return `${view.prefix}${path}${query === "" ? "" : `?${query}`}`
}

/** @since 0.1.0 @category utils */
export const badge = (status: TaskStatus): Html => html`<span class="status s-${status}">${status}</span>`

/** A time in UTC, to the second. @since 0.1.0 @category utils */
export const time = (date: Date | undefined): Part =>
  date === undefined ?
    html`<span class="muted">—</span>` :
    html`<time datetime="${date.toISOString()}">${date.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z")}</time>`

/** A link to an execution's page. @since 0.1.0 @category utils */
export const executionLink = (view: View, executionId: string): Html =>
  html`<a class="mono" href="${href(view, "/execution", { id: executionId })}">${executionId}</a>`

/** Characters of a value shown before "show all". @since 0.1.0 @category constants */
export const PREVIEW_CHARS = 1_500

/** A value as pretty JSON, truncated with a "show all" toggle. @since 0.1.0 @category utils */
export const prettyJson = (value: unknown, key: string): Html => {
  let text: string
  try {
    text = JSON.stringify(value, null, 2) ?? "undefined"
  } catch {
    text = String(value)
  }
  if (text.length <= PREVIEW_CHARS) return html`<pre>${text}</pre>`
  return html`<pre>${text.slice(0, PREVIEW_CHARS)}…</pre>
<details data-key="${key}"><summary>show all (${text.length} characters)</summary><pre>${text}</pre></details>`
}

/**
 * A whole page: `live` is the part the script refreshes from `liveSrc` (the same page's fragment).
 *
 * @since 0.1.0
 * @category constructors
 */
export const page = (view: View, args: {
  readonly title: string
  readonly head?: Part
  readonly body: Part
  readonly liveSrc?: string | undefined
}): Html =>
  html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${args.title} · durable-tasks</title>
<link rel="stylesheet" href="${view.prefix}/assets/dashboard.css">
<script src="${view.prefix}/assets/dashboard.js" defer></script></head>
<body><header><strong>durable-tasks</strong>
<a href="${href(view, "/")}">Overview</a><a href="${href(view, "/executions")}">Executions</a>
<form method="get" action="${href(view, "/execution")}" role="search">
<input name="id" placeholder="execution id" aria-label="execution id" size="28"><button>Open</button></form>
<span class="spacer"></span>${view.readOnly ? html`<span class="muted">read-only</span>` : ""}
<span id="live-status">${args.liveSrc === undefined ? "" : "live"}</span></header>
<main><h1>${args.title}</h1>${args.head}${
    args.liveSrc === undefined
      ? args.body
      : html`<div id="live" data-src="${args.liveSrc}">${args.body}</div>`
  }</main></body></html>`
