/**
 * Building HTML safely: every interpolated value of {@link html} is escaped unless it is already
 * {@link Html} (built by `html` itself), so user data (inputs, errors, task ids) renders as text.
 *
 * @since 0.1.0
 */

/** A piece of HTML that is safe to insert as it is. @since 0.1.0 @category models */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value
  }
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" }

/** Escapes text for element content and quoted attribute values. @since 0.1.0 @category utils */
export const escape = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!)

/** What may be interpolated: text (escaped), numbers, Html, arrays of these; null/undefined/false render nothing. */
export type Part = string | number | Html | null | undefined | false | ReadonlyArray<Part>

const render = (part: Part): string => {
  if (part === null || part === undefined || part === false) return ""
  if (part instanceof Html) return part.value
  if (Array.isArray(part)) return part.map(render).join("")
  return escape(String(part))
}

/** The tagged template: `html\`<td>${userText}</td>\``. @since 0.1.0 @category constructors */
export const html = (strings: TemplateStringsArray, ...parts: ReadonlyArray<Part>): Html => {
  let out = strings[0]!
  for (let i = 0; i < parts.length; i++) out += render(parts[i]!) + strings[i + 1]!
  return new Html(out)
}

/** HTML written by this module's callers that holds no user data (a trusted constant). @since 0.1.0 */
export const trusted = (value: string): Html => new Html(value)
