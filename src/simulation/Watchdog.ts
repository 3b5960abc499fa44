/**
 * Bounds every storage step in simulated time: a call that does not return within the bound (a
 * transaction that never ends) is a liveness violation, reported with the run's seed, instead of a
 * run that never ends.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type { TaskStorage } from "../TaskStorage.js"
import type { Timeline } from "./SimulatedTime.js"

interface InFlight {
  readonly origin: string
  readonly op: string
  readonly startedAtMs: number
}

/** @since 0.1.0 @category models */
export class Watchdog {
  /** Set once a step outlived its bound. */
  hung = false
  private readonly inFlight = new Set<InFlight>()

  constructor(
    private readonly timeline: Timeline,
    /** How long one storage call may take, in simulated ms (slow calls and pauses included). */
    readonly boundMs: number,
    private readonly violation: (message: string) => void
  ) {}

  /** `storage`, with each call of `origin` tracked while in flight. */
  track(storage: TaskStorage["Type"], origin: string): TaskStorage["Type"] {
    const call = <A, E>(op: string, effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
      Effect.suspend(() => {
        const entry: InFlight = { origin, op, startedAtMs: this.timeline.nowMs }
        this.inFlight.add(entry)
        return Effect.ensuring(effect, Effect.sync(() => this.inFlight.delete(entry)))
      })
    return {
      insert: (rows) => call("insert", storage.insert(rows)),
      claim: (request) => call("claim", storage.claim(request)),
      apply: (commands) => call("apply", storage.apply(commands)),
      expire: (args) => call("expire", storage.expire(args)),
      get: (id) => call("get", storage.get(id)),
      getMany: (ids) => call("getMany", storage.getMany(ids)),
      list: (query) => call("list", storage.list(query)),
      nextWake: (taskIds) => call("nextWake", storage.nextWake(taskIds)),
      listPage: (query) => call("listPage", storage.listPage(query)),
      countBy: (by) => call("countBy", storage.countBy(by)),
      tree: (id) => call("tree", storage.tree(id)),
      purge: (request) => call("purge", storage.purge(request))
    }
  }

  /** Reports the calls in flight for longer than the bound (each once). */
  check(nowMs: number): void {
    for (const entry of this.inFlight) {
      if (nowMs - entry.startedAtMs <= this.boundMs) continue
      this.inFlight.delete(entry)
      this.hung = true
      this.violation(
        `liveness: ${entry.origin}'s storage ${entry.op} (from ${entry.startedAtMs}) has not returned after ` +
          `${nowMs - entry.startedAtMs} ms of simulated time, over the bound of ${this.boundMs} ms for one step: ` +
          "a step hangs"
      )
    }
  }
}
