/**
 * Start-up against a Postgres server that is not reachable yet (restarting, a container still
 * coming up): which connection failures are worth waiting out, the schedule of attempts (jittered
 * exponential delays, capped, logged, bounded by `connectRetryMs`), and the error when it gives up,
 * which names the server and never the password.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as Intervals from "effect/ScheduleIntervals"
import { StorageError } from "../EngineError.js"

/** Socket errors, and server states that pass (starting up, shutting down, too many connections). */
const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now: the database system is starting up
  "53300", // too_many_connections
  "08001", // sqlclient_unable_to_establish_sqlconnection
  "08006" // connection_failure
])

/** Failures without a code that still mean "not reachable now" (the pool's and @effect/sql-pg's timeouts). */
const UNREACHABLE_MESSAGE = /timed out|timeout exceeded|connection terminated/i

const causes = (error: unknown): Array<unknown> => {
  const chain: Array<unknown> = []
  for (
    let c = error;
    c !== null && c !== undefined && chain.length < 5;
    c = (c as { readonly cause?: unknown }).cause
  ) {
    chain.push(c)
    if (typeof c !== "object") break
  }
  return chain
}

/** True when a failed connection attempt may succeed later (the server is down, not misconfigured). @since 0.1.0 */
export const isUnreachable = (error: unknown): boolean =>
  causes(error).some((c) => {
    if (typeof c !== "object" || c === null) return false
    const code = (c as { readonly code?: unknown }).code
    if (typeof code === "string") return UNREACHABLE_CODES.has(code)
    const message = (c as { readonly message?: unknown }).message
    return typeof message === "string" && UNREACHABLE_MESSAGE.test(message)
  })

/** The innermost message with its code: "connect ECONNREFUSED 127.0.0.1:5432 (ECONNREFUSED)". */
const describe = (error: unknown): string => {
  const chain = causes(error)
  const root = chain[chain.length - 1]
  const text = root instanceof Error || (typeof root === "object" && root !== null && "message" in root)
    ? String((root as { readonly message: unknown }).message)
    : String(root)
  const code = typeof root === "object" && root !== null ? (root as { readonly code?: unknown }).code : undefined
  return typeof code === "string" && !text.includes(code) ? `${text} (${code})` : text
}

/**
 * Attempts while the server is unreachable: after 100 ms, doubling up to 2 s, jittered, until
 * `retryMs` has passed since the first failure. Each retry is logged as a warning.
 *
 * @since 0.1.0
 */
export const reconnectSchedule = (server: string, retryMs: number): Schedule.Schedule<unknown, unknown> =>
  Schedule.exponential(Duration.millis(100), 2).pipe(
    Schedule.union(Schedule.spaced(Duration.seconds(2))),
    Schedule.jittered,
    Schedule.upTo(Duration.millis(retryMs)),
    Schedule.whileInput(isUnreachable),
    Schedule.passthrough,
    Schedule.onDecision((error, decision) =>
      ScheduleDecision.isContinue(decision)
        ? Effect.flatMap(Clock.currentTimeMillis, (nowMs) =>
          Effect.logWarning(
            `durable-tasks: Postgres at ${server} is unreachable (${describe(error)}); trying again in ` +
              `${Math.max(0, Math.round(Intervals.start(decision.intervals) - nowMs))} ms ` +
              `(start-up gives up ${retryMs} ms after the first failure: connectRetryMs)`
          ))
        : Effect.void
    )
  )

/**
 * The storage error when start-up cannot connect: the server, the cause, and whether it gave up
 * after `retryMs` of retries or at once (a failure that waiting does not cure, such as a wrong password).
 *
 * @since 0.1.0
 */
export const connectError = (server: string, retryMs: number, error: unknown): StorageError =>
  new StorageError({
    op: "connect",
    message: `cannot connect to Postgres at ${server}: ${describe(error)}` +
      (isUnreachable(error) && retryMs > 0 ? `; gave up after trying for connectRetryMs (${retryMs} ms)` : ""),
    cause: error
  })
