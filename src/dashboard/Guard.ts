/**
 * Wraps every dashboard handler with the access rules of `Auth.ts`: the token (taken once from the
 * URL into the cookie, by a redirect that drops it from the address), `Origin` on POSTs, read-only
 * refusals, and the security headers on every response.
 *
 * @since 0.1.0
 */
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Auth from "./Auth.js"

/** The settings the guard enforces. @since 0.1.0 @category models */
export interface GuardSettings {
  readonly token: string
  readonly readOnly: boolean
  /** The cookie's path: the dashboard's prefix, or "/". */
  readonly cookiePath: string
}

/** What a route is: a page or asset read, or an action. @since 0.1.0 @category models */
export type Kind = "read" | "action"

const refuse = (status: number, message: string, json: boolean) =>
  json
    ? HttpServerResponse.unsafeJson({ error: message }, { status })
    : HttpServerResponse.text(`${status}: ${message}\n`, { status })

/** The request's URL (path and query). @since 0.1.0 @category utils */
export const urlOf = (request: HttpServerRequest.HttpServerRequest): URL => new URL(request.url, "http://dashboard")

const secure = (response: HttpServerResponse.HttpServerResponse) =>
  HttpServerResponse.setHeaders(response, Auth.SECURITY_HEADERS)

/**
 * The handler behind the access rules. A GET whose URL carries `token` (the printed URL) sets the
 * cookie and redirects to the same URL without it.
 *
 * @since 0.1.0
 * @category utils
 */
export const guard = <E, R>(
  settings: GuardSettings,
  kind: Kind,
  handler: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>
): Effect.Effect<HttpServerResponse.HttpServerResponse, E, R | HttpServerRequest.HttpServerRequest> =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const url = urlOf(request)
    const json = url.pathname.includes("/api/")
    const fromUrl = url.searchParams.get("token")
    if (fromUrl !== null && request.method === "GET") {
      if (!Auth.sameToken(fromUrl, settings.token)) return secure(refuse(401, "wrong token", json))
      url.searchParams.delete("token")
      return secure(
        HttpServerResponse.redirect(url.pathname + url.search, { status: 303 }).pipe(
          HttpServerResponse.unsafeSetCookie(Auth.COOKIE, settings.token, {
            httpOnly: true,
            sameSite: "strict",
            path: settings.cookiePath
          })
        )
      )
    }
    if (!Auth.sameToken(Auth.tokenOf(request), settings.token)) {
      return secure(refuse(401, "a token is needed: open the URL printed when the dashboard started", json))
    }
    if (kind === "action") {
      if (request.method !== "POST") return secure(refuse(405, "actions are POST requests", json))
      if (!Auth.sameOrigin(request)) return secure(refuse(403, "cross-origin request refused", json))
      if (settings.readOnly) return secure(refuse(403, "the dashboard is read-only", json))
    }
    return secure(yield* handler)
  })
