/**
 * The storage layer of a `--db` value: a `postgres://` / `postgresql://` URL opens Postgres, any
 * other value is a SQLite file path. A small local stand-in until the CLI's own `src/cli/Database.ts`
 * is on main (then the dashboard command should use that one).
 *
 * @since 0.1.0
 */
import type * as Layer from "effect/Layer"
import type { StorageError } from "../EngineError.js"
import * as PgStorage from "../PgStorage.js"
import type { ScheduleStorage } from "../ScheduleStorage.js"
import type { Signals } from "../Signals.js"
import * as SqliteStorage from "../SqliteStorage.js"
import type { TaskStorage } from "../TaskStorage.js"

/** True for a Postgres connection URL. @since 0.1.0 @category utils */
export const isPostgresUrl = (db: string): boolean => /^postgres(ql)?:\/\//i.test(db)

/** The storage of `--db`. @since 0.1.0 @category layers */
export const layer = (db: string): Layer.Layer<TaskStorage | ScheduleStorage | Signals, StorageError> =>
  isPostgresUrl(db) ? PgStorage.layer({ connectionString: db }) : SqliteStorage.layer({ filename: db })
