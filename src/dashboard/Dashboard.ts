/**
 * The dashboard's routes (pages, assets, JSON API, actions) as a `Layer` that adds them to an app's
 * own `HttpLayerRouter.HttpRouter` under a path prefix; `Serve.ts` runs them as a standalone server.
 *
 * @since 0.1.0
 */
import * as HttpLayerRouter from "@effect/platform/HttpLayerRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type { ExecutionFilter } from "../ExecutionQueries.js"
import type { Signals } from "../Signals.js"
import type { TaskExecution } from "../TaskExecution.js"
import { isUnsuccessful } from "../TaskStatus.js"
import type { TaskStorage } from "../TaskStorage.js"
import * as Api from "./Api.js"
import { client } from "./assets/client.js"
import { css } from "./assets/style.js"
import * as Data from "./Data.js"
import * as ExecutionPages from "./ExecutionPages.js"
import * as Filters from "./Filters.js"
import { guard, type Kind, urlOf } from "./Guard.js"
import { type Html, html } from "./Html.js"
import { href, page, type View } from "./Layout.js"
import * as Pages from "./Pages.js"

/** @since 0.1.0 @category models */
export interface Options {
  /** The path prefix, e.g. `"/dashboard"`; default: at the root. */
  readonly prefix?: string | undefined
  /** The token every request must carry (see README "Dashboard", security). */
  readonly token: string
  /** Hide the actions and refuse them (403). */
  readonly readOnly?: boolean | undefined
}

/**
 * The script, as served: the browser function's own source. (A tool such as tsx may wrap functions
 * in a `__name` helper; the script defines it as the identity.)
 *
 * @since 0.1.0
 * @category assets
 */
export const script = `"use strict";\nvar __name = function (f) { return f; };\n(${client.toString()})();\n`

/** A prefix made canonical: "" or "/name" without a trailing slash. @since 0.1.0 @category utils */
export const normalizePrefix = (prefix: string | undefined): string => {
  const trimmed = (prefix ?? "").replace(/\/+$/, "")
  if (trimmed === "") return ""
  return trimmed.startsWith("/") ? trimmed : `/${trimmed}`
}

const htmlResponse = (body: Html, status = 200) =>
  HttpServerResponse.text(body.value, { status, contentType: "text/html; charset=utf-8" })

const errorPage = (view: View, e: { readonly _tag: string; readonly message?: string }) => {
  const status = e._tag === "ExecutionNotFound" ? 404 : e._tag === "InvalidQuery" || e._tag === "BadFilter" ? 400 : 500
  const title = status === 404 ? "Not found" : status === 400 ? "Bad request" : "Error"
  return htmlResponse(page(view, { title, body: html`<div class="error">${e.message ?? e._tag}</div>` }), status)
}

/**
 * The routes, relative to the prefix, over the storage services in context.
 *
 * @since 0.1.0
 * @category constructors
 */
export const routes = (options: Options) =>
  Effect.gen(function*() {
    const data = yield* Data.make
    const view: View = { prefix: normalizePrefix(options.prefix), readOnly: options.readOnly ?? false }
    const settings = {
      token: options.token,
      readOnly: view.readOnly,
      cookiePath: view.prefix === "" ? "/" : view.prefix
    }
    const api = Api.handlers(data)

    /** A page: whole, or only its live part when asked with `fragment=1`. */
    const livePage = <E extends { readonly _tag: string }>(
      make: (url: URL) => Effect.Effect<{ readonly title: string; readonly head?: Html; readonly live: Html }, E>
    ) =>
      Effect.gen(function*() {
        const url = urlOf(yield* HttpServerRequest.HttpServerRequest)
        const fragment = url.searchParams.get("fragment") === "1"
        url.searchParams.delete("fragment")
        const result = yield* Effect.either(make(url))
        if (result._tag === "Left") return yield* errorPage(view, result.left)
        const { head, live, title } = result.right
        if (fragment) return yield* htmlResponse(live)
        url.searchParams.set("fragment", "1")
        const liveSrc = `${url.pathname}${url.search}`
        return yield* htmlResponse(page(view, { title, head, body: live, liveSrc }))
      })

    const pages = {
      overview: livePage(() =>
        Effect.map(data.overview, (o) => ({ title: "Overview", live: Pages.overview(view, o) }))
      ),
      executions: livePage((url) =>
        Effect.gen(function*() {
          const filters = Filters.fromParams(url.searchParams)
          const options = yield* Api.optionsOf(filters)
          const pageOf = yield* data.list({
            ...options,
            limit: 50,
            ...(filters.cursor ? { cursor: filters.cursor } : {})
          })
          const tasks = yield* data.taskIds
          return {
            title: "Executions",
            head: html`${Pages.filterForm(view, filters, tasks)}${Pages.selectionActions(view, filters)}`,
            live: Pages.executions(view, filters, pageOf)
          }
        })
      ),
      execution: livePage((url) =>
        Effect.map(data.execution(url.searchParams.get("id")?.trim() ?? ""), ({ children, execution }) => ({
          title: `Execution ${execution.executionId}`,
          live: ExecutionPages.execution(view, execution, children)
        }))
      ),
      tree: livePage((url) => {
        const id = url.searchParams.get("id") ?? ""
        return Effect.map(data.tree(id), (tree) => ({
          title: `Tree of ${tree.execution.executionId}`,
          live: ExecutionPages.tree(view, tree, id)
        }))
      })
    }

    const form = Effect.flatMap(HttpServerRequest.HttpServerRequest, (r) => r.urlParamsBody).pipe(
      Effect.map((pairs) => new URLSearchParams(pairs as Array<[string, string]>))
    )
    /** An action on the filtered selection: a confirm page (how many it takes now), then the action. */
    const onSelection = (spec: {
      readonly action: string
      readonly verb: string
      readonly done: string
      readonly which: string
      readonly now: string
      readonly takes: (e: TaskExecution) => boolean
      readonly apply: (options: ExecutionFilter) => Effect.Effect<Data.SelectionResult, Data.ReadError>
    }) =>
      Effect.gen(function*() {
        const body = yield* form
        const filters = Filters.fromParams(body)
        const options = yield* Api.optionsOf(filters)
        const { cursor: _, ...fields } = filters
        const back = `${view.prefix}/executions${Filters.toParams(fields)}`
        if (body.get("confirm") !== "1") {
          const first = yield* data.list({ ...options, limit: 1_000 })
          const count = first.executions.filter(spec.takes).length
          return yield* htmlResponse(page(view, {
            title: `${spec.verb} matching executions?`,
            body: ExecutionPages.confirm(view, {
              action: spec.action,
              what: html`${spec.verb} ${spec.which} matching the filter${
                Object.entries(fields).filter(([, v]) => v !== "").map(([k, v]) => html` ${k}=<b>${v}</b>`)
              }? ${count}${first.nextCursor === null ? "" : "+"} ${spec.now}.`,
              fields,
              back
            })
          }))
        }
        const result = yield* spec.apply(options)
        return yield* htmlResponse(page(view, {
          title: spec.done.charAt(0).toUpperCase() + spec.done.slice(1),
          body: html`<div class="notice" id="result">${result.changed} of ${result.matched} matching executions
${spec.done}.</div><a href="${back}">Back to the list</a>`
        }))
      }).pipe(Effect.catchAll((e) => errorPage(view, e)))

    const actions = {
      cancel: Effect.gen(function*() {
        const body = yield* form
        const id = body.get("id") ?? ""
        if (body.get("confirm") !== "1") {
          const { execution } = yield* data.execution(id)
          return yield* htmlResponse(page(view, {
            title: "Cancel?",
            body: ExecutionPages.confirm(view, {
              action: "cancel",
              what: html`Cancel <span class="mono">${id}</span> (${execution.taskId}, ${execution.status}) and every
unfinished execution under it?`,
              fields: { id },
              back: href(view, "/execution", { id })
            })
          }))
        }
        yield* data.cancel(id)
        return HttpServerResponse.redirect(href(view, "/execution", { id }), { status: 303 })
      }).pipe(Effect.catchAll((e) => errorPage(view, e))),
      retry: Effect.gen(function*() {
        const body = yield* form
        const id = body.get("id") ?? ""
        if (body.get("confirm") !== "1") {
          const { execution } = yield* data.execution(id)
          return yield* htmlResponse(page(view, {
            title: "Retry?",
            body: ExecutionPages.confirm(view, {
              action: "retry",
              what: html`Run <span class="mono">${id}</span> (${execution.taskId}, ${execution.status}) again, with a
fresh retry budget?`,
              fields: { id },
              back: href(view, "/execution", { id })
            })
          }))
        }
        yield* data.retry(id)
        return HttpServerResponse.redirect(href(view, "/execution", { id }), { status: 303 })
      }).pipe(Effect.catchAll((e) => errorPage(view, e))),
      cancelMatching: onSelection({
        action: "cancel-matching",
        verb: "Cancel",
        done: "cancelled",
        which: "every unfinished execution",
        now: "unfinished now",
        takes: (e) => !e.isClosed,
        apply: data.cancelMatching
      }),
      retryMatching: onSelection({
        action: "retry-matching",
        verb: "Retry",
        done: "retried",
        which: "every execution that finished without success",
        now: "to retry now",
        takes: (e) => isUnsuccessful(e.status),
        apply: data.retryMatching
      })
    }

    const asset = (body: string, contentType: string) => HttpServerResponse.text(body, { contentType })
    const table: ReadonlyArray<readonly ["GET" | "POST", HttpLayerRouter.PathInput, Kind, any]> = [
      ["GET", "/", "read", pages.overview],
      ["GET", "/executions", "read", pages.executions],
      ["GET", "/execution", "read", pages.execution],
      ["GET", "/tree", "read", pages.tree],
      ["POST", "/actions/cancel", "action", actions.cancel],
      ["POST", "/actions/cancel-matching", "action", actions.cancelMatching],
      ["POST", "/actions/retry", "action", actions.retry],
      ["POST", "/actions/retry-matching", "action", actions.retryMatching],
      ["GET", "/assets/dashboard.js", "read", asset(script, "text/javascript; charset=utf-8")],
      ["GET", "/assets/dashboard.css", "read", asset(css, "text/css; charset=utf-8")],
      ["GET", "/favicon.ico", "read", Effect.succeed(HttpServerResponse.empty({ status: 204 }))],
      ["GET", "/api/overview", "read", api.overview],
      ["GET", "/api/executions", "read", api.executions],
      ["POST", "/api/executions/cancel", "action", api.cancelMatching],
      ["POST", "/api/executions/retry", "action", api.retryMatching],
      ["GET", "/api/executions/:id", "read", api.execution],
      ["GET", "/api/executions/:id/tree", "read", api.tree],
      ["POST", "/api/executions/:id/cancel", "action", api.cancel],
      ["POST", "/api/executions/:id/retry", "action", api.retry]
    ]
    const routes = table.map(([method, path, kind, handler]) =>
      HttpLayerRouter.route(
        method,
        `${view.prefix}${path}` as HttpLayerRouter.PathInput,
        guard(settings, kind, handler)
      )
    )
    return routes
  })

/**
 * Adds the dashboard's routes to the app's `HttpLayerRouter.HttpRouter`, under `options.prefix`.
 * Needs the storage services (`TaskStorage`, `Signals`; a `Registry` is used when present).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<never, never, HttpLayerRouter.HttpRouter | TaskStorage | Signals> =>
  HttpLayerRouter.use((router) => Effect.flatMap(routes(options), (list) => router.addAll(list))) as Layer.Layer<
    never,
    never,
    HttpLayerRouter.HttpRouter | TaskStorage | Signals
  >
