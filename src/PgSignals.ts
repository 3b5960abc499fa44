/**
 * `Signals` across processes through Postgres `LISTEN` / `NOTIFY`: an enqueue in one process wakes
 * claim loops in every other, a finish wakes waiters everywhere, a cancel reaches the process that
 * runs the execution. Local subscribers are woken at once through an in-process hub; the same
 * signal goes out with `SELECT pg_notify(channel, payload)` (not `PgClient.notify`, which binds a
 * parameter in `NOTIFY` and fails in @effect/sql-pg 0.53), and notifications from other processes
 * are delivered into the local hub. Notifications can be lost (a dropped listen connection):
 * the executor's polling interval is the fallback.
 *
 * @since 0.1.0
 */
import * as PgClient from "@effect/sql-pg/PgClient"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { randomBytes } from "node:crypto"
import { Signals } from "./Signals.js"
import * as SignalsModule from "./Signals.js"

/** @since 0.1.0 @category models */
export interface Options {
  /** The channel; storages sharing a database use different channels (see `SqlStorage.channelOf`). */
  readonly channel: string
  /** How long start-up waits for its `LISTEN` to be active (checked by a ping to itself). Default 5000 ms. */
  readonly listenTimeoutMs?: number | undefined
  /**
   * How often the listening connection is checked with a ping to itself; when a ping does not come
   * back within `healthCheckTimeoutMs`, `LISTEN` starts again on a new connection. Default 30000 ms.
   */
  readonly healthCheckIntervalMs?: number | undefined
  /** Default 5000 ms. */
  readonly healthCheckTimeoutMs?: number | undefined
}

class ListenLost extends Data.TaggedError("ListenLost")<{}> {
  override get message() {
    return "the listening connection did not answer a ping"
  }
}

/** Postgres rejects payloads of 8000 bytes or more; stay below. */
const MAX_PAYLOAD_BYTES = 7_000

const Message = Schema.parseJson(Schema.Struct({
  /** The sending process's hub, so a process ignores its own notifications. */
  o: Schema.String,
  r: Schema.optional(Schema.Literal(1)),
  f: Schema.optional(Schema.Array(Schema.String)),
  c: Schema.optional(Schema.Array(Schema.String)),
  p: Schema.optional(Schema.String)
}))
const decodeMessage = Schema.decodeUnknownEither(Message)

type Outgoing =
  | { readonly _tag: "ready" }
  | { readonly _tag: "finished"; readonly ids: ReadonlyArray<string> }
  | { readonly _tag: "cancelled"; readonly ids: ReadonlyArray<string> }
  | { readonly _tag: "ping"; readonly id: string }

/** Merges queued signals into as few payloads as fit the size limit. */
const payloadsOf = (origin: string, batch: ReadonlyArray<Outgoing>): Array<string> => {
  let ready = false
  const finished: Array<string> = []
  const cancelled: Array<string> = []
  const out: Array<string> = []
  for (const m of batch) {
    if (m._tag === "ready") ready = true
    else if (m._tag === "finished") finished.push(...m.ids)
    else if (m._tag === "cancelled") cancelled.push(...m.ids)
    else out.push(JSON.stringify({ o: origin, p: m.id }))
  }
  let current: { o: string; r?: 1; f: Array<string>; c: Array<string> } = { o: origin, f: [], c: [] }
  let size = 64 + origin.length
  const flush = () => {
    if (current.r === undefined && current.f.length === 0 && current.c.length === 0) return
    out.push(JSON.stringify({
      o: current.o,
      ...(current.r !== undefined ? { r: 1 } : {}),
      ...(current.f.length > 0 ? { f: current.f } : {}),
      ...(current.c.length > 0 ? { c: current.c } : {})
    }))
    current = { o: origin, f: [], c: [] }
    size = 64 + origin.length
  }
  if (ready) current.r = 1
  const add = (list: Array<string>, key: "f" | "c") => {
    for (const id of list) {
      const bytes = Buffer.byteLength(id) + 4
      if (size + bytes > MAX_PAYLOAD_BYTES) flush()
      current[key].push(id)
      size += bytes
    }
  }
  add(cancelled, "c")
  add(finished, "f")
  flush()
  return out
}

/**
 * Signals over the `PgClient` in context, for the scope's lifetime. Start-up returns once this
 * process's `LISTEN` is active (or after `listenTimeoutMs`, with a warning).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Signals["Type"], never, PgClient.PgClient | Scope.Scope> =>
  Effect.gen(function*() {
    const pg = yield* PgClient.PgClient
    const sql = pg.withoutTransforms()
    const hub = SignalsModule.makeHub()
    const origin = randomBytes(9).toString("base64url")
    const outbox = yield* Queue.unbounded<Outgoing>()
    const pings = new Map<string, Deferred.Deferred<void>>()

    const receive = (payload: string) =>
      Effect.sync(() => {
        const decoded = decodeMessage(payload)
        if (Either.isLeft(decoded)) return
        const m = decoded.right
        if (m.o === origin) {
          if (m.p !== undefined) {
            const ping = pings.get(m.p)
            if (ping !== undefined) Deferred.unsafeDone(ping, Effect.void)
          }
          return
        }
        if (m.c !== undefined) hub.deliverCancelled(m.c)
        if (m.f !== undefined) hub.deliverFinished(m.f)
        if (m.r !== undefined) hub.deliverReady()
      })

    const send = (batch: ReadonlyArray<Outgoing>) =>
      Effect.forEach(payloadsOf(origin, batch), (payload) => sql`SELECT pg_notify(${options.channel}, ${payload})`, {
        discard: true
      }).pipe(
        Effect.catchAllCause((cause) =>
          Effect.logWarning("durable-tasks: pg_notify failed; other processes will notice by polling", cause)
        )
      )
    yield* Queue.takeBetween(outbox, 1, 10_000).pipe(
      Effect.flatMap((chunk) => send(Array.from(chunk))),
      Effect.forever,
      // Wake-ups of many writes at once: no root span per batch of notifies.
      Effect.withTracerEnabled(false),
      Effect.forkScoped
    )
    // At scope close, send what is still queued (before the pool closes).
    yield* Effect.addFinalizer(() =>
      Queue.takeAll(outbox).pipe(
        Effect.flatMap((chunk) => send(Array.from(chunk))),
        Effect.timeout("2 seconds"),
        Effect.ignore
      )
    )

    /** True when a ping to ourselves comes back within `timeoutMs`. */
    const ping = (timeoutMs: number) =>
      Effect.gen(function*() {
        const id = randomBytes(6).toString("base64url")
        const echoed = yield* Deferred.make<void>()
        pings.set(id, echoed)
        const tries = Math.max(1, Math.ceil(timeoutMs / 250))
        return yield* Queue.offer(outbox, { _tag: "ping", id }).pipe(
          Effect.zipRight(Effect.timeout(Deferred.await(echoed), "250 millis")),
          Effect.retry({ times: tries - 1 }),
          Effect.isSuccess,
          Effect.ensuring(Effect.sync(() => pings.delete(id)))
        )
      })

    // Listen, and start again when the connection fails or stops answering pings. The old stream
    // is disconnected, so a dead socket cannot hold up the restart.
    const healthCheck = Effect.gen(function*() {
      for (;;) {
        yield* Effect.sleep(options.healthCheckIntervalMs ?? 30_000)
        if (!(yield* ping(options.healthCheckTimeoutMs ?? 5_000))) return yield* Effect.fail(new ListenLost())
      }
    })
    yield* Effect.raceFirst(Effect.disconnect(Stream.runForEach(pg.listen(options.channel), receive)), healthCheck)
      .pipe(
        Effect.tapErrorCause((cause) =>
          Effect.logWarning("durable-tasks: LISTEN lost; listening again (polling covers the gap)", cause)
        ),
        Effect.retry(Schedule.spaced("1 second")),
        Effect.forkScoped
      )

    // Start-up waits until LISTEN is active, so no signal sent after it is missed.
    if (!(yield* ping(options.listenTimeoutMs ?? 5_000))) {
      yield* Effect.logWarning("durable-tasks: LISTEN is not confirmed; signals from other processes may be missed")
    }

    const service: Signals["Type"] = {
      ...hub.service,
      notifyReady: Effect.zipRight(hub.service.notifyReady, Queue.offer(outbox, { _tag: "ready" })),
      notifyFinished: (ids) =>
        ids.length === 0
          ? Effect.void
          : Effect.zipRight(hub.service.notifyFinished(ids), Queue.offer(outbox, { _tag: "finished", ids })),
      notifyCancelled: (ids) =>
        ids.length === 0
          ? Effect.void
          : Effect.zipRight(hub.service.notifyCancelled(ids), Queue.offer(outbox, { _tag: "cancelled", ids }))
    }
    return service
  })

/** Signals over the `PgClient` in context. @since 0.1.0 @category layers */
export const layer = (options: Options): Layer.Layer<Signals, never, PgClient.PgClient> =>
  Layer.scoped(Signals, make(options))
