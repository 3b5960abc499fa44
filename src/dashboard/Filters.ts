/**
 * The executions list's filters as they come in a URL (`status`, `task`, `since`, `from`, `to`,
 * `cursor`), and the listing options they mean.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import type { ListExecutionsOptions } from "../ExecutionQueries.js"
import { TASK_STATUSES, type TaskStatus } from "../TaskStatus.js"

/** The filters, as text. @since 0.1.0 @category models */
export interface Filters {
  readonly status: string
  readonly task: string
  readonly since: string
  readonly from: string
  readonly to: string
  readonly cursor: string
}

/** The choices of `since`: how far back creation times go. @since 0.1.0 @category constants */
export const SINCE: ReadonlyArray<readonly [string, string, number]> = [
  ["15m", "last 15 minutes", 15 * 60_000],
  ["1h", "last hour", 3_600_000],
  ["6h", "last 6 hours", 6 * 3_600_000],
  ["24h", "last 24 hours", 86_400_000],
  ["7d", "last 7 days", 7 * 86_400_000]
]

/** The filters of a query string (missing ones empty). @since 0.1.0 @category constructors */
export const fromParams = (params: URLSearchParams): Filters => ({
  status: params.get("status") ?? "",
  task: params.get("task") ?? "",
  since: params.get("since") ?? "",
  from: params.get("from") ?? "",
  to: params.get("to") ?? "",
  cursor: params.get("cursor") ?? ""
})

/** The query string of filters (empty ones left out), with `extra` pairs appended. @since 0.1.0 */
export const toParams = (filters: Partial<Filters>, extra: Record<string, string> = {}): string => {
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries({ ...filters, ...extra })) if (v !== undefined && v !== "") params.set(k, v)
  const text = params.toString()
  return text === "" ? "" : `?${text}`
}

const timeOf = (field: string, text: string): Either.Either<number | undefined, string> => {
  if (text === "") return Either.right(undefined)
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text)
  return Number.isSafeInteger(ms)
    ? Either.right(ms)
    : Either.left(`${field}: not a time (ISO 8601 or epoch ms): ${text}`)
}

/**
 * The listing options of filters at `nowMs` (without cursor and limit), or a message naming the
 * bad filter.
 *
 * @since 0.1.0
 * @category utils
 */
export const toOptions = (filters: Filters, nowMs: number): Either.Either<ListExecutionsOptions, string> =>
  Either.gen(function*() {
    if (filters.status !== "" && !TASK_STATUSES.includes(filters.status as TaskStatus)) {
      return yield* Either.left(`status: not a status: ${filters.status}`)
    }
    const since = SINCE.find(([key]) => key === filters.since)
    if (filters.since !== "" && since === undefined) return yield* Either.left(`since: not a choice: ${filters.since}`)
    const from = yield* timeOf("from", filters.from)
    const to = yield* timeOf("to", filters.to)
    const after = since === undefined ? from : Math.max(from ?? 0, nowMs - since[2])
    return {
      ...(filters.status !== "" ? { status: filters.status as TaskStatus } : {}),
      ...(filters.task !== "" ? { taskId: filters.task } : {}),
      ...(after !== undefined ? { createdAfter: after } : {}),
      ...(to !== undefined ? { createdBefore: to } : {})
    }
  })
