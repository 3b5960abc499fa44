/**
 * An enqueue's inputs, validated by the task's input schema and serialized by its serializer, within
 * the executor's size limit.
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Serialization from "../Serialization.js"
import type { TaskDefinition } from "../TaskDefinition.js"
import * as TaskDefinitionModule from "../TaskDefinition.js"

/** Validates and serializes one input. */
export const encodeInput = (definition: TaskDefinition, input: unknown, maxBytes: number) =>
  Effect.flatMap(definition.prepareInput(input), (prepared) =>
    Either.match(
      Serialization.encode(prepared, `input of task '${definition.id}'`, maxBytes, definition.serializer),
      { onLeft: Effect.fail, onRight: Effect.succeed }
    ))

/** Validates and serializes many inputs; without a validator (identity), with no effect per input. */
export const encodeInputs = (definition: TaskDefinition, inputs: Iterable<unknown>, maxBytes: number) => {
  if (!TaskDefinitionModule.isIdentityCodec(definition.prepareInput)) {
    return Effect.forEach(inputs, (input) => encodeInput(definition, input, maxBytes))
  }
  return Effect.suspend(() => {
    const what = `input of task '${definition.id}'`
    const out: Array<string | null> = []
    for (const input of inputs) {
      const encoded = Serialization.encode(input, what, maxBytes, definition.serializer)
      if (Either.isLeft(encoded)) return Effect.fail(encoded.left)
      out.push(encoded.right)
    }
    return Effect.succeed(out)
  })
}
