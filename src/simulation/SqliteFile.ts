/**
 * A SQLite file as the simulation's storage backend: the real SQL backend (migrations, group
 * commit, `BEGIN IMMEDIATE`) on a real file, for {@link Scenario.backend}. Its statements run
 * synchronously (better-sqlite3), so simulated time and the run's determinism stay as they are.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type { StorageError } from "../EngineError.js"
import * as SqliteStorage from "../SqliteStorage.js"
import * as SqlStorage from "../SqlStorage.js"
import type * as StorageDriver from "../StorageDriver.js"

/**
 * The backend on the SQLite file `filename` (created when missing; `synchronous = NORMAL`, since
 * the simulation crashes processes, not the machine). The connection closes with the scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const backend = (filename: string): Effect.Effect<StorageDriver.Backend, StorageError, Scope.Scope> =>
  Effect.flatMap(
    Layer.build(SqliteStorage.layerClient({ filename, synchronous: "normal" })),
    (context) => Effect.provide(SqlStorage.makeBackend(), context)
  )
