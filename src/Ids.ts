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
  /** `count` fresh ids in one effect (optional: {@link nextMany} falls back to `next` each). */
  readonly nextMany?: (prefix: string, count: number) => Effect.Effect<ReadonlyArray<string>>
}>() {}

/**
 * `count` fresh ids from `ids`: one effect for the batch when the service offers `nextMany`.
 *
 * @since 0.1.0
 * @category utils
 */
export const nextMany = (ids: Ids["Type"], prefix: string, count: number): Effect.Effect<ReadonlyArray<string>> =>
  ids.nextMany !== undefined
    ? ids.nextMany(prefix, count)
    : Effect.all(Array.from({ length: count }, () => ids.next(prefix)))

let pool = Buffer.alloc(0)
let offset = 0
const CODES = Buffer.from(ALPHABET, "latin1")
const scratch = Buffer.alloc(20)
/** 20 random base-36 characters (about 103 bits) from a pooled crypto buffer, built as one string. */
const randomSuffix = (): string => {
  if (offset + 20 > pool.length) {
    pool = randomBytes(4096)
    offset = 0
  }
  for (let i = 0; i < 20; i++) scratch[i] = CODES[pool[offset + i]! % 36]!
  offset += 20
  return scratch.toString("latin1", 0, 20)
}

/** Cryptographically random ids. @since 0.1.0 @category layers */
export const layerRandom: Layer.Layer<Ids> = Layer.succeed(Ids, {
  next: (prefix) => Effect.sync(() => prefix + randomSuffix()),
  nextMany: (prefix, count) =>
    Effect.sync(() => {
      const out: Array<string> = []
      for (let i = 0; i < count; i++) out.push(prefix + randomSuffix())
      return out
    })
})

/** Sequential ids (`prefix` + counter): deterministic, for simulations and tests. @since 0.1.0 @category layers */
export const layerSequential = (start = 0): Layer.Layer<Ids> =>
  Layer.sync(Ids, () => {
    let n = start
    const make = (prefix: string) => `${prefix}${(n++).toString(36).padStart(8, "0")}`
    return {
      next: (prefix) => Effect.sync(() => make(prefix)),
      nextMany: (prefix, count) => Effect.sync(() => Array.from({ length: count }, () => make(prefix)))
    }
  })
