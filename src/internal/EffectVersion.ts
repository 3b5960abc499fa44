/**
 * The Effect line this package is built for, checked when an entry point loads. npm's `latest` tag
 * for `effect` is 4.x, and an app that installed it should be told so in one sentence, not by an
 * error from deep inside the engine. Every entry point imports this module first.
 *
 * What it cannot catch: effect 4.1 lacks modules the engine imports (`effect/Either`, ...), and an
 * ES module graph is linked before any of its code runs, so with such a copy Node's own "Cannot find
 * module .../effect/dist/Either.js" comes first. npm refuses that install anyway (the peer range).
 */
import { createRequire } from "node:module"

/** The range of `effect` versions we support, as in package.json's `peerDependencies`. */
export const supportedRange = "^3.22.4"

const minimum = [3, 22, 4] as const

/** `major.minor.patch` of a version string (`3.22.4`, `4.0.0-rc.1`), or undefined when it has none. */
const parse = (version: string): readonly [number, number, number] | undefined => {
  const match = /^(\d+)\.(\d+)\.(\d+)/.exec(version)
  return match === null ? undefined : [Number(match[1]), Number(match[2]), Number(match[3])]
}

/**
 * Why `version` of `effect` cannot be used (a sentence naming it and the supported range), or undefined
 * when it can: `>= 3.22.4` and `< 4`. `where` (the package.json found) is added to the message.
 */
export const problem = (version: string, where?: string): string | undefined => {
  const parsed = parse(version)
  const found = `found effect ${version}${where === undefined ? "" : ` (${where})`}`
  if (parsed === undefined) return `durable-tasks needs effect 3.x (${supportedRange}), ${found}`
  const [major, minor, patch] = parsed
  if (major !== minimum[0]) {
    return `durable-tasks needs effect 3.x (${supportedRange}), ${found}. ` +
      `npm's latest effect is 4.x: install the Effect 3 line with npm install effect@3`
  }
  const below = minor < minimum[1] || (minor === minimum[1] && patch < minimum[2])
  return below ? `durable-tasks needs effect ${supportedRange}, ${found}: upgrade with npm install effect@3` : undefined
}

/** The installed `effect`'s version and package.json path, as this package resolves it; undefined if unknown. */
const installed = (): { readonly version: string; readonly path: string } | undefined => {
  try {
    const require = createRequire(import.meta.url)
    const path = require.resolve("effect/package.json")
    const version: unknown = (require(path) as { readonly version?: unknown }).version
    return typeof version === "string" ? { version, path } : undefined
  } catch {
    return undefined // a bundle without node_modules: nothing to check against
  }
}

/** Throws an `Error` naming both versions when the installed `effect` is not one we support. */
export const check = (): void => {
  const found = installed()
  const message = found === undefined ? undefined : problem(found.version, found.path)
  if (message !== undefined) throw new Error(message)
}

check()
