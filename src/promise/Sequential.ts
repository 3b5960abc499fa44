/**
 * `sequentialTasks(a, b, c)` as parent tasks: each level runs one member as its only child, and its
 * finalize task is the next level, whose input carries the previous member's output. The id derives
 * from the members' ids, so it is the same in every process and after a restart.
 *
 * @since 0.1.0
 */
import * as TaskDefinitionModule from "../TaskDefinition.js"
import type {
  DurableFinalizeTaskOptions,
  DurableParentTaskOptions,
  DurableTask,
  DurableTaskRunContext
} from "./types.js"

/** A sequence the executor defined: its members and its root task. @since 0.1.0 @category models */
export interface Sequence {
  readonly members: ReadonlyArray<DurableTask<any, any>>
  readonly task: DurableTask<any, any>
}

/**
 * The id of the sequence of the tasks with these ids (hashed when it would be too long). @since 0.1.0 @category utils
 */
export const idOf = (ids: ReadonlyArray<string>): string => {
  const id = `sequential(${ids.join(",")})`
  if (id.length <= TaskDefinitionModule.MAX_TASK_ID_LENGTH - 4) return id
  let h = 0x811c9dc5
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193) >>> 0
  return `sequential_${h.toString(16).padStart(8, "0")}_${ids.length}`
}

/** The glue tasks' settings: they only pass values on, and retry storage hiccups. */
const glue = {
  timeoutMs: 60_000,
  retryOptions: { maxAttempts: 5, baseDelayMs: 100, delayMultiplier: 2, maxDelayMs: 5_000 }
}

/** The options of the root parent task of the sequence `id` of `tasks`. @since 0.1.0 @category constructors */
export const rootOptions = (
  id: string,
  tasks: ReadonlyArray<DurableTask<any, any>>
): DurableParentTaskOptions<any, any, any> => {
  const level = (k: number): DurableFinalizeTaskOptions<any, any> => {
    if (k === tasks.length) {
      return {
        ...glue,
        id: `${id}#${k}`,
        run: (_ctx, input: { childrenTasksOutputs: Array<{ output: unknown }> }) =>
          input.childrenTasksOutputs[0]?.output
      }
    }
    return {
      ...glue,
      id: k === 0 ? id : `${id}#${k}`,
      runParent: (_ctx: DurableTaskRunContext, input: any) => ({
        output: undefined,
        childrenTasks: [{ task: tasks[k]!, input: k === 0 ? input : input.childrenTasksOutputs[0]?.output }]
      }),
      finalizeTask: level(k + 1)
    }
  }
  return level(0) as DurableParentTaskOptions<any, any, any>
}
