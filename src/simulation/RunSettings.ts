/**
 * The fixed settings of every simulated run: how often the harness checks its bounds, the limits past
 * which a run is a liveness failure, and the one sequential id source of a run.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Ids } from "../Ids.js"
import * as IdsModule from "../Ids.js"

/** How often the harness checks the bounds on runners, waits and storage steps (simulated ms). */
export const MONITOR_EVERY_MS = 250
/** Longest run after the faults stop: past it the run is a liveness failure (a step or a loop never ends). */
export const LIVENESS_LIMIT_MS = 3_600_000
/** Most fiber steps in one run (a livelock that does not move time). */
export const MAX_STEPS = 20_000_000
/** How long stopping every process may take at the end of a run (simulated ms). */
export const CLEANUP_LIMIT_MS = 120_000

/** One sequential id source shared by the client and every process: ids follow the run's order. */
export const sequentialIds = (): Ids["Type"] =>
  Effect.runSync(Effect.scoped(Effect.map(Layer.build(IdsModule.layerSequential()), Context.get(Ids))))
