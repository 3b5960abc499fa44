/**
 * Id generation as a service, so the simulator can make ids deterministic.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { randomBytes } from "node:crypto"

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"

/** @since 0.1.0 @category tags */
export class Ids extends Context.Tag("durable-tasks/Ids")<Ids, {
  /** A fresh id: `prefix` followed by random characters. */
  readonly next: (prefix: string) => Effect.Effect<string>
}>() {}

let pool = Buffer.alloc(0)
let offset = 0
/** 20 random base-36 characters (about 103 bits) from a pooled crypto buffer. */
const randomSuffix = (): string => {
  if (offset + 20 > pool.length) {
    pool = randomBytes(4096)
    offset = 0
  }
  let out = ""
  for (let i = 0; i < 20; i++) out += ALPHABET[pool[offset + i]! % 36]
  offset += 20
  return out
}

/** Cryptographically random ids. @since 0.1.0 @category layers */
export const layerRandom: Layer.Layer<Ids> = Layer.succeed(Ids, { next: (prefix) => Effect.sync(() => prefix + randomSuffix()) })

/** Sequential ids (`prefix` + counter): deterministic, for simulations and tests. @since 0.1.0 @category layers */
export const layerSequential = (start = 0): Layer.Layer<Ids> =>
  Layer.sync(Ids, () => {
    let n = start
    return { next: (prefix) => Effect.sync(() => `${prefix}${(n++).toString(36).padStart(8, "0")}`) }
  })
