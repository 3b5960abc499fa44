/**
 * Turns what a storage transaction changed into wake-ups. {@link publishing} decorates a storage
 * once so that every write that changes something sends its wake-ups: no call site has to
 * remember to (a forgotten one would only add a poll interval of latency, which no test sees).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as MetricsRecorder from "./internal/MetricsRecorder.js"
import type { Signals } from "./Signals.js"
import type { Changes, TaskStorage } from "./TaskStorage.js"

/** Sends the wake-ups that `changes` call for (and counts its inserts and finishes). @since 0.1.0 @category utils */
export const publish = (signals: Signals["Type"], changes: Changes): Effect.Effect<void> =>
  Effect.suspend(() => {
    if (changes.insertedRows !== undefined) MetricsRecorder.inserted(changes.insertedRows)
    if (changes.finishedRows !== undefined) MetricsRecorder.finished(changes.finishedRows)
    const effects: Array<Effect.Effect<void>> = []
    if (changes.readyAtMs !== null) effects.push(signals.notifyReady)
    if (changes.finished.length > 0) effects.push(signals.notifyFinished(changes.finished))
    if (changes.cancelledRunning.length > 0) effects.push(signals.notifyCancelled(changes.cancelledRunning))
    return effects.length === 0 ? Effect.void : Effect.all(effects, { discard: true })
  })

/**
 * The storage with wake-ups: after each successful `insert`, `apply` and `expire`, the changes it
 * reports are published on `signals`. The executor and the client each use their storage through it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const publishing = (storage: TaskStorage["Type"], signals: Signals["Type"]): TaskStorage["Type"] => ({
  ...storage,
  insert: (rows) => Effect.tap(storage.insert(rows), (changes) => publish(signals, { ...changes, insertedRows: rows })),
  apply: (commands) => Effect.tap(storage.apply(commands), (result) => publish(signals, result.changes)),
  expire: (args) => Effect.tap(storage.expire(args), (result) => publish(signals, result.changes))
})
