/**
 * Enqueues with an idempotency key, as a careful client makes them: its storage loses the reply of
 * a keyed insert now and then (the rows are written, then the call fails), and the client enqueues
 * again with the same key until a reply comes. With keys, that must still leave exactly one
 * execution per key (the checker's invariant) and give every call the same execution id.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { StorageError } from "../EngineError.js"
import type { TaskStorage } from "../TaskStorage.js"
import type { Coverage } from "./Coverage.js"
import type { FaultInjector } from "./Faults.js"

/** The coverage label of a lost keyed-enqueue reply. @since 0.1.0 @category models */
export const LOST_REPLY = "fault:keyed enqueue reply lost (retried)"

/** How often a keyed insert's reply is lost during the fault phase, at least. */
const MIN_LOSS_RATE = 0.25

/**
 * `storage` whose keyed inserts lose their reply (after the write) at the run's "storage error
 * after the write" rate, at least {@link MIN_LOSS_RATE}, while faults are on.
 *
 * @since 0.1.0
 * @category constructors
 */
export const losingReplies = (
  storage: TaskStorage["Type"],
  faults: FaultInjector,
  coverage: Coverage
): TaskStorage["Type"] => ({
  ...storage,
  insert: (rows) =>
    Effect.flatMap(storage.insert(rows), (result) => {
      const keyed = rows.some((r) => r.idempotencyKey !== null)
      const rate = Math.max(MIN_LOSS_RATE, faults.plan.rates.storageErrorAfterWrite)
      if (!keyed || !faults.enabled || !faults.prng.chance(rate)) return Effect.succeed(result)
      coverage.hit(LOST_REPLY)
      return Effect.fail(
        new StorageError({ op: "insert", message: "injected fault: a keyed enqueue's reply was lost" })
      )
    })
})

/**
 * `enqueue` tried again, with the same key, while its storage call fails (at most `times` more).
 *
 * @since 0.1.0
 * @category combinators
 */
export const retried = <A, E extends { readonly _tag: string }>(
  enqueue: Effect.Effect<A, E>,
  times = 8
): Effect.Effect<A, E> => Effect.retry(enqueue, { times, while: (e) => e._tag === "StorageError" })
