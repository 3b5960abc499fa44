/**
 * The dashboard's access rules: a token (random per run unless given), sent once in the URL and
 * then kept in an `HttpOnly`, `SameSite=Strict` cookie (or sent as `Authorization: Bearer`), compared
 * in constant time; mutating requests must be POSTs whose `Origin` is the dashboard's own.
 *
 * @since 0.1.0
 */
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as crypto from "node:crypto"

/** The cookie holding the token. @since 0.1.0 @category constants */
export const COOKIE = "durable_tasks_dashboard"

/** A fresh random token (24 bytes, base64url). @since 0.1.0 @category constructors */
export const randomToken = (): string => crypto.randomBytes(24).toString("base64url")

const digest = (text: string) => crypto.createHash("sha256").update(text, "utf8").digest()

/**
 * True when `given` is the token: both are hashed first, so the comparison by `timingSafeEqual`
 * takes the same time whatever their lengths and contents.
 *
 * @since 0.1.0
 * @category utils
 */
export const sameToken = (given: string | undefined, token: string): boolean =>
  given !== undefined && crypto.timingSafeEqual(digest(given), digest(token))

/** The token a request carries: its cookie, else its bearer header. @since 0.1.0 @category utils */
export const tokenOf = (request: HttpServerRequest.HttpServerRequest): string | undefined => {
  const cookie = request.cookies[COOKIE]
  if (cookie !== undefined) return cookie
  const header = request.headers["authorization"]
  return header !== undefined && header.startsWith("Bearer ") ? header.slice(7) : undefined
}

/**
 * True when a mutating request comes from the dashboard's own pages: its `Origin` header is there
 * and names the host the request was sent to.
 *
 * @since 0.1.0
 * @category utils
 */
export const sameOrigin = (request: HttpServerRequest.HttpServerRequest): boolean => {
  const origin = request.headers["origin"]
  const host = request.headers["host"]
  if (origin === undefined || host === undefined) return false
  try {
    const url = new URL(origin)
    return (url.protocol === "http:" || url.protocol === "https:") && url.host === host
  } catch {
    return false
  }
}

/** The security headers of every response: a strict Content-Security-Policy and friends. @since 0.1.0 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "x-frame-options": "DENY",
  "cache-control": "no-store"
}
