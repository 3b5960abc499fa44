/**
 * The standalone dashboard server: binds `127.0.0.1` by default (a warning for any other host),
 * prints its URL with the token once, and serves until interrupted.
 *
 * @since 0.1.0
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpLayerRouter from "@effect/platform/HttpLayerRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import type { ServeError } from "@effect/platform/HttpServerError"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { createServer } from "node:http"
import type { Signals } from "../Signals.js"
import type { TaskStorage } from "../TaskStorage.js"
import * as Auth from "./Auth.js"
import * as Dashboard from "./Dashboard.js"
import { DEFAULT_PORT } from "./DefaultPort.js"

/** @since 0.1.0 @category models */
export interface ServeOptions {
  /** Default `127.0.0.1`. */
  readonly host?: string | undefined
  /** Default 4280; 0 picks a free port. */
  readonly port?: number | undefined
  /** Default: a random token for this run. */
  readonly token?: string | undefined
  readonly readOnly?: boolean | undefined
}

export { DEFAULT_PORT } from "./DefaultPort.js"

/** True for a loopback host name or address. @since 0.1.0 @category utils */
export const isLoopback = (host: string): boolean =>
  host === "localhost" || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host)

const urlHost = (host: string) => (host.includes(":") ? `[${host}]` : host)

/**
 * Serves the dashboard over the storage services in context until interrupted; prints
 * `dashboard: http://host:port/?token=…` once it listens (through Effect's `Console`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const serve = (options: ServeOptions = {}): Effect.Effect<never, ServeError, TaskStorage | Signals> =>
  Effect.gen(function*() {
    const host = options.host ?? "127.0.0.1"
    const token = options.token ?? Auth.randomToken()
    if (!isLoopback(host)) {
      yield* Console.warn(
        `dashboard: warning: listening on ${host}, not a loopback address: anyone who can reach it and ` +
          "has the token can see and change executions"
      )
    }
    const app = HttpLayerRouter.serve(Dashboard.layer({ token, readOnly: options.readOnly }), {
      disableListenLog: true,
      disableLogger: true
    }).pipe(Layer.provideMerge(NodeHttpServer.layer(createServer, { host, port: options.port ?? DEFAULT_PORT })))
    return yield* Effect.scoped(Effect.gen(function*() {
      const context = yield* Layer.build(app)
      const address = yield* HttpServer.addressWith(Effect.succeed).pipe(Effect.provide(context))
      const port = address._tag === "TcpAddress" ? address.port : 0
      yield* Console.log(`dashboard: http://${urlHost(host)}:${port}/?token=${encodeURIComponent(token)}`)
      return yield* Effect.never
    }))
  })
