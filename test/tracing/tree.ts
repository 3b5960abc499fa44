/**
 * The task tree of the cross-process tracing test (test/tracing-processes.test.ts), defined once
 * for the process that enqueues and the process that runs.
 */
import * as Effect from "effect/Effect"
import * as Task from "../../src/Task.js"

/** A leaf: doubles its input. */
export const leaf = Task.make({ id: "leaf", timeoutMs: 10_000, run: (n: number) => Effect.succeed(n * 2) })

/** A parent of two leaves, with a finalize task that counts their outputs. */
export const tree = Task.parent({
  id: "tree",
  timeoutMs: 10_000,
  runParent: (n: number) => Effect.succeed({ output: n, children: [Task.child(leaf, 1), Task.child(leaf, 2)] }),
  finalize: { id: "tree_sum", timeoutMs: 10_000, run: (input) => Effect.succeed(input.childrenTasksOutputs.length) }
})
