/**
 * Task id → definition. Executors claim only registered task ids.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import { InvalidTaskDefinition } from "./EngineError.js"
import type { FlowLimits } from "./FlowControl.js"
import type { TaskDefinition } from "./TaskDefinition.js"

/** @since 0.1.0 @category models */
export interface RegistryService {
  /** Registers a definition and its finalize tasks. Fails on an id already used by another definition. */
  readonly register: (definition: TaskDefinition) => Either.Either<void, InvalidTaskDefinition>
  readonly get: (taskId: string) => TaskDefinition | undefined
  /** The registered ids (a live view). */
  readonly taskIds: ReadonlySet<string>
  /** The concurrency limits of the registered ids that declare them (a live view). */
  readonly flow: ReadonlyMap<string, FlowLimits>
}

/** @since 0.1.0 @category tags */
export class Registry extends Context.Tag("durable-tasks/Registry")<Registry, RegistryService>() {}

/** @since 0.1.0 @category constructors */
export const make = (initial: ReadonlyArray<TaskDefinition> = []): RegistryService => {
  const byId = new Map<string, TaskDefinition>()
  const taskIds = new Set<string>()
  const flow = new Map<string, FlowLimits>()
  const register = (definition: TaskDefinition): Either.Either<void, InvalidTaskDefinition> => {
    const chain: Array<TaskDefinition> = []
    for (let d: TaskDefinition | undefined = definition; d !== undefined; d = d.finalize) chain.push(d)
    for (const d of chain) {
      const existing = byId.get(d.id)
      if (existing !== undefined && existing !== d) {
        return Either.left(
          new InvalidTaskDefinition({
            taskId: d.id,
            message: `task id '${d.id}' is already registered by another task`
          })
        )
      }
    }
    for (const d of chain) {
      byId.set(d.id, d)
      taskIds.add(d.id)
      if (d.flow !== undefined) flow.set(d.id, d.flow)
    }
    return Either.void
  }
  for (const d of initial) {
    const result = register(d)
    if (Either.isLeft(result)) throw result.left
  }
  return { register, get: (id) => byId.get(id), taskIds, flow }
}

/** A registry with these definitions. @since 0.1.0 @category layers */
export const layer = (definitions: ReadonlyArray<TaskDefinition> = []): Layer.Layer<Registry, InvalidTaskDefinition> =>
  Layer.suspend(() => {
    try {
      return Layer.succeed(Registry, make(definitions))
    } catch (e) {
      return Layer.fail(e as InvalidTaskDefinition)
    }
  })
