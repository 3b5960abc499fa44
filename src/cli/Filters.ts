/**
 * The flags every command shares (`--db`, `--json`, `--table-prefix`, `--schema`) and the listing
 * filters (`--status`, `--task`, `--root`, `--parent`, `--created-after` …, `--limit`, `--cursor`),
 * turned into `listExecutions` options. A time is ISO 8601 (`2026-12-03T12:00:00Z`), epoch
 * milliseconds, or an age (`30s`, `15m`, `2h`, `7d`: that long ago).
 *
 * @since 0.1.0
 */
import * as Options from "@effect/cli/Options"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { ListExecutionsOptions } from "../ExecutionQueries.js"
import { TASK_STATUSES, type TaskStatus } from "../TaskStatus.js"
import { type CliError, usage } from "./CliError.js"
import { ENV_VAR } from "./Database.js"

/** The flags of every command. @since 0.1.0 @category options */
export const common = {
  db: Options.text("db").pipe(
    Options.withDescription(`sqlite:PATH or postgres://user:password@host:port/database (default: $${ENV_VAR})`),
    Options.optional
  ),
  json: Options.boolean("json").pipe(Options.withDescription("print JSON (for scripts) instead of text")),
  tablePrefix: Options.text("table-prefix").pipe(
    Options.withDescription("the storage's table prefix (default durable_tasks_)"),
    Options.optional
  ),
  schema: Options.text("schema").pipe(Options.withDescription("Postgres schema of the tables"), Options.optional)
}

/** @since 0.1.0 @category models */
export interface CommonArgs {
  readonly db: Option.Option<string>
  readonly json: boolean
  readonly tablePrefix: Option.Option<string>
  readonly schema: Option.Option<string>
}

const text = (name: string, description: string) =>
  Options.text(name).pipe(Options.withDescription(description), Options.optional)

/** `--status`: one status, or several separated by commas. @since 0.1.0 @category options */
export const status = text("status", `one or more of ${TASK_STATUSES.join(", ")}, separated by commas`)

/** The listing filters. @since 0.1.0 @category options */
export const filters = {
  status,
  task: text("task", "task id"),
  root: text("root", "executions under this root execution id"),
  parent: text("parent", "children and finalize task of this execution id"),
  createdAfter: text("created-after", "created after this time (ISO 8601, epoch ms, or an age: 15m, 2h, 7d)"),
  createdBefore: text("created-before", "created before this time"),
  finishedAfter: text("finished-after", "finished after this time"),
  finishedBefore: text("finished-before", "finished before this time")
}

/** @since 0.1.0 @category models */
export type FilterArgs = { readonly [K in keyof typeof filters]: Option.Option<string> }

const AGE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d|w)$/
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 }

/** Parses a time flag (`now` is epoch ms). @since 0.1.0 @category parsing */
export const parseTime = (flag: string, text: string, now: number): Effect.Effect<number, CliError> => {
  const trimmed = text.trim()
  if (/^\d+$/.test(trimmed)) return Effect.succeed(Number(trimmed))
  const age = AGE.exec(trimmed)
  if (age !== null) {
    const unit = age[2] === "w" ? 7 * UNIT_MS["d"]! : UNIT_MS[age[2]!]!
    return Effect.succeed(Math.round(now - Number(age[1]) * unit))
  }
  const ms = /^\d{4}-\d\d-\d\d/.test(trimmed) ? Date.parse(trimmed) : Number.NaN
  return Number.isNaN(ms)
    ? Effect.fail(
      usage(`--${flag} must be an ISO 8601 time, epoch milliseconds or an age (15m, 2h, 7d), got "${text}"`)
    )
    : Effect.succeed(ms)
}

/** Splits `--status` at commas (statuses are checked by the query). @since 0.1.0 @category parsing */
export const parseStatuses = (text: Option.Option<string>): ReadonlyArray<TaskStatus> | undefined =>
  Option.match(text, {
    onNone: () => undefined,
    onSome: (t) => t.split(",").map((s) => s.trim()).filter((s) => s !== "") as Array<TaskStatus>
  })

const optionalTime = (flag: string, text: Option.Option<string>, now: number) =>
  Option.match(text, {
    onNone: () => Effect.succeed(undefined),
    onSome: (t) => parseTime(flag, t, now)
  })

/** The filter flags as `listExecutions` options (without limit and cursor). @since 0.1.0 @category parsing */
export const toListOptions = (args: FilterArgs, now: number): Effect.Effect<ListExecutionsOptions, CliError> =>
  Effect.gen(function*() {
    return {
      status: parseStatuses(args.status),
      taskId: Option.getOrUndefined(args.task),
      rootExecutionId: Option.getOrUndefined(args.root),
      parentExecutionId: Option.getOrUndefined(args.parent),
      createdAfter: yield* optionalTime("created-after", args.createdAfter, now),
      createdBefore: yield* optionalTime("created-before", args.createdBefore, now),
      finishedAfter: yield* optionalTime("finished-after", args.finishedAfter, now),
      finishedBefore: yield* optionalTime("finished-before", args.finishedBefore, now)
    }
  })

/** A query's field as the flag that sets it. @since 0.1.0 @category utils */
export const FLAG_OF: Readonly<Record<string, string>> = {
  status: "--status",
  taskId: "--task",
  rootExecutionId: "--root",
  parentExecutionId: "--parent",
  createdAfter: "--created-after",
  createdBefore: "--created-before",
  finishedAfter: "--finished-after",
  finishedBefore: "--finished-before",
  limit: "--limit",
  cursor: "--cursor",
  executionId: "ID"
}
