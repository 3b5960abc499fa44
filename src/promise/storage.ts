/**
 * Storage for the Promise facade: a value that carries the layers the engine needs.
 *
 * @since 0.1.0
 */
import * as Layer from "effect/Layer"
import * as MemoryStorage from "../MemoryStorage.js"
import { Signals } from "../Signals.js"
import * as SignalsModule from "../Signals.js"
import { TaskStorage } from "../TaskStorage.js"

/**
 * A storage for `new DurableExecutor(storage)`. Executors given the same storage value share it
 * (and, in one process, its wake-ups).
 *
 * @since 0.1.0
 * @category models
 */
export interface DurableStorage {
  readonly kind: string
  readonly layer: Layer.Layer<TaskStorage | Signals, unknown>
}

/**
 * An in-memory storage: fast, for tests and single-process use; nothing survives the process.
 *
 * @since 0.1.0
 * @category constructors
 */
export const createInMemoryStorage = (): DurableStorage => {
  const storage = MemoryStorage.makeSync()
  const signals = SignalsModule.makeHub().service
  return { kind: "memory", layer: Layer.merge(Layer.succeed(TaskStorage, storage), Layer.succeed(Signals, signals)) }
}
