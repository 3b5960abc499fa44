/**
 * How the CLI writes: JSON for scripts, or text with colors when stdout is a terminal (none when it
 * is not, or when `NO_COLOR` is set), tables padded to their widest cell.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { isFinished, type TaskStatus } from "../TaskStatus.js"

/** True when stdout is a terminal and `NO_COLOR` is unset or empty. @since 0.1.0 @category utils */
export const useColor = (
  stream: { readonly isTTY?: boolean } = process.stdout,
  env: NodeJS.ProcessEnv = process.env
): boolean => stream.isTTY === true && (env["NO_COLOR"] ?? "") === ""

/** Text styles. @since 0.1.0 @category models */
export type Style = "bold" | "dim" | "red" | "green" | "yellow" | "cyan" | "magenta"

const CODES: Record<Style, string> = {
  bold: "1",
  dim: "2",
  red: "31",
  green: "32",
  yellow: "33",
  cyan: "36",
  magenta: "35"
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g

/** The text without ANSI styles. @since 0.1.0 @category utils */
export const strip = (text: string): string => text.replace(ANSI, "")

/** Styles text, or the text as it is when colors are off. @since 0.1.0 @category models */
export interface Painter {
  readonly color: boolean
  readonly paint: (style: Style, text: string) => string
  readonly status: (status: TaskStatus) => string
}

/** @since 0.1.0 @category constructors */
export const painter = (color: boolean): Painter => {
  const paint = (style: Style, text: string) => (color ? `\u001b[${CODES[style]}m${text}\u001b[0m` : text)
  const status = (s: TaskStatus) =>
    s === "completed"
      ? paint("green", s)
      : s === "cancelled"
      ? paint("magenta", s)
      : isFinished(s)
      ? paint("red", s)
      : s === "ready"
      ? paint("cyan", s)
      : paint("yellow", s)
  return { color, paint, status }
}

/**
 * Lines of a table: a bold header, cells padded to their column's widest (colors not counted).
 *
 * @since 0.1.0
 * @category utils
 */
export const table = (p: Painter, headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>) => {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => strip(r[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c + " ".repeat(widths[i]! - strip(c).length))).join("  ")
      .trimEnd()
  return [p.paint("bold", line(headers)), ...rows.map(line)]
}

/** A time as ISO 8601 (UTC, milliseconds), or "-". @since 0.1.0 @category utils */
export const time = (date: Date | undefined): string => (date === undefined ? "-" : date.toISOString())

/** A duration: `850 ms`, `12.3 s`, `4.2 min`, `3.1 h`. @since 0.1.0 @category utils */
export const duration = (ms: number): string =>
  ms < 1_000
    ? `${ms} ms`
    : ms < 60_000
    ? `${(ms / 1_000).toFixed(1)} s`
    : ms < 3_600_000
    ? `${(ms / 60_000).toFixed(1)} min`
    : `${(ms / 3_600_000).toFixed(1)} h`

/** A stored value on one line (JSON), cut at `max` characters. @since 0.1.0 @category utils */
export const value = (v: unknown, max = 200): string => {
  const text = v === undefined
    ? "undefined"
    : typeof v === "string"
    ? JSON.stringify(v)
    : JSON.stringify(v) ?? String(v)
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

/** Writes lines to stdout. @since 0.1.0 @category utils */
export const print = (lines: string | ReadonlyArray<string>): Effect.Effect<void> =>
  Effect.sync(() => {
    const text = typeof lines === "string" ? lines : lines.join("\n")
    process.stdout.write(text.endsWith("\n") || text === "" ? text : `${text}\n`)
  })

/** Writes a value as indented JSON to stdout. @since 0.1.0 @category utils */
export const printJson = (data: unknown): Effect.Effect<void> => print(JSON.stringify(data, null, 2))
