/**
 * Execution ids a caller passes in (get, wait, cancel by id) are checked before they reach a
 * storage: an id that no storage can hold is simply not found, the same in memory, SQLite and
 * Postgres, instead of a driver error (Postgres refuses a NUL in text, and turns a lone surrogate
 * into U+FFFD, which could match another id). Ids have a known format (`te_` and 20 characters, `_f`
 * per finalize level), but rows written by other versions may have others, so only what cannot be
 * stored everywhere is refused: a NUL, a lone surrogate, more than {@link MAX_EXECUTION_ID_LENGTH}
 * characters.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type { CommandResult, TaskStorage } from "../TaskStorage.js"

/**
 * The longest id looked up: far above what the engine makes (`te_` and 20 characters, 2 more per
 * finalize level: a sequence of 4000 tasks), so a huge string (a mistake, or hostile input) is not
 * sent to storage. A Postgres index entry holds at most 2704 bytes, so no longer id is stored there.
 *
 * @since 0.1.0
 */
export const MAX_EXECUTION_ID_LENGTH = 8_192

/** `String.prototype.isWellFormed` (ES2024, in Node 20; the compiled lib is ES2022): no lone surrogate. */
const isWellFormed = (id: string): boolean => (id as unknown as { isWellFormed(): boolean }).isWellFormed()

/**
 * True for a string every storage can hold as an execution id. Native scans, not a regular
 * expression: this runs on every id of every storage call (measured: the two regular expressions it
 * replaced took ~1% of the CPU time of 100,000 trivial executions on memory).
 *
 * @since 0.1.0
 */
export const isStorableExecutionId = (id: unknown): boolean =>
  typeof id === "string" && id.length <= MAX_EXECUTION_ID_LENGTH && !id.includes("\u0000") && isWellFormed(id)

const notFound: CommandResult = { _tag: "NotFound" }

/**
 * The storage, with lookups by caller-given ids checked first: an id no storage can hold is not
 * found (`get` → undefined, `getMany` and `list` leave it out, `apply` answers NotFound for it).
 *
 * @since 0.1.0
 */
export const guardExecutionIds = (storage: TaskStorage["Type"]): TaskStorage["Type"] => ({
  ...storage,
  get: (id) => (isStorableExecutionId(id) ? storage.get(id) : Effect.succeed(undefined)),
  getMany: (
    ids
  ) => (ids.every(isStorableExecutionId) ? storage.getMany(ids) : storage.getMany(ids.filter(isStorableExecutionId))),
  list: (query) =>
    (query.rootExecutionId === undefined || isStorableExecutionId(query.rootExecutionId)) &&
      (query.taskId === undefined || isStorableExecutionId(query.taskId)) &&
      (query.sleepId === undefined || isStorableExecutionId(query.sleepId))
      ? storage.list(query)
      : Effect.succeed([]),
  listPage: (query) =>
    [query.rootExecutionId, query.parentExecutionId, query.taskId, query.after?.executionId].every((id) =>
        id === undefined || isStorableExecutionId(id)
      )
      ? storage.listPage(query)
      : Effect.succeed([]),
  tree: (id) => (isStorableExecutionId(id) ? storage.tree(id) : Effect.succeed([])),
  apply: (commands) => {
    if (commands.every((c) => isStorableExecutionId(c.executionId))) return storage.apply(commands)
    return Effect.map(storage.apply(commands.filter((c) => isStorableExecutionId(c.executionId))), (applied) => {
      let next = 0
      const results = commands.map((c) => (isStorableExecutionId(c.executionId) ? applied.results[next++]! : notFound))
      return { results, changes: applied.changes }
    })
  }
})
