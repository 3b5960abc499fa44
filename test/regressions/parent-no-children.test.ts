/**
 * Review: a parent task without a finalize task promises `{ output, childrenOutputs }`
 * (DurableParentTaskOutput), but when runParent returns no children its output is the bare run output.
 */
import { describe, expect, it } from "vitest"
import { withExecutor } from "../support/facade.js"

describe("review: parent task that returns no children", () => {
  it("outputs { output, childrenOutputs: [] }, like a parent with children", async () => {
    await withExecutor(async (executor) => {
      const parent = executor.parentTask({
        id: "maybe-fan-out",
        timeoutMs: 1_000,
        runParent: (_ctx, input: { items: Array<string> }) => ({
          output: { count: input.items.length },
          childrenTasks: []
        })
      })
      const handle = await executor.enqueueTask(parent, { items: [] })
      const execution = await handle.waitAndGetExecution()
      expect(execution.status).toBe("completed")
      expect(execution.output).toEqual({ output: { count: 0 }, childrenOutputs: [] })
    })
  })
})
