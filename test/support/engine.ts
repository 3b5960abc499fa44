/**
 * The engine layer for tests, built in one place: an executor (the Effect API's `DurableExecutor`
 * layer) over a storage and signals that a test may replace (a decorated port, lossy signals), with
 * the storage and signals kept in the context for the test to inspect.
 */
import * as Layer from "effect/Layer"
import * as DurableExecutor from "../../src/DurableExecutor.js"
import * as MemoryStorage from "../../src/MemoryStorage.js"
import * as Signals from "../../src/Signals.js"
import type { TaskStorage } from "../../src/TaskStorage.js"

/** What {@link engineLayer} runs on: storage and signals layers, each defaulting to a fresh in-memory one. */
export interface EngineParts<E = never> {
  readonly storage?: Layer.Layer<TaskStorage, E>
  readonly signals?: Layer.Layer<Signals.Signals>
}

/** An executor with `options` over `parts`; the storage and signals stay in the context. */
export const engineLayer = <E = never>(options: DurableExecutor.LayerOptions = {}, parts: EngineParts<E> = {}) =>
  DurableExecutor.layer(options).pipe(
    Layer.provideMerge(Layer.merge(parts.storage ?? MemoryStorage.layer, parts.signals ?? Signals.layerMemory))
  )
