/**
 * Real executions for the CLI tests (and the README's sample output), made by a real executor on a
 * storage: a failed order tree (`place-order` → `reserve-stock` completed, `charge-card` failed twice
 * with its stack, `ship` cancelled), a completed `send-email`, and a `send-email` delayed by an hour
 * (still ready: something for `cancel`).
 */
import { DurableExecutor, type DurableStorage } from "../../src/index.js"

export interface Fixture {
  readonly rootId: string
  readonly chargeId: string
  readonly emailId: string
  readonly delayedId: string
  readonly executorId: string
}

/** Runs the tree and the emails to their ends (the delayed one stays ready), then shuts down. */
export const fill = async (storage: DurableStorage): Promise<Fixture> => {
  const executor = new DurableExecutor(storage, { pollIntervalMs: 20, executorId: "fixture-executor" })
  try {
    const reserve = executor.task({ id: "reserve-stock", timeoutMs: 5_000, run: (_ctx, sku: string) => ({ sku }) })
    const charge = executor.task({
      id: "charge-card",
      timeoutMs: 5_000,
      retryOptions: { maxAttempts: 1 },
      run: (_ctx, cents: number) => {
        throw new Error(`card declined for ${cents} cents`)
      }
    })
    const ship = executor.task({
      id: "ship",
      timeoutMs: 5_000,
      run: async (ctx) => {
        await new Promise((resolve) => setTimeout(resolve, 2_000, undefined))
        return ctx.attempt
      }
    })
    const order = executor.parentTask({
      id: "place-order",
      timeoutMs: 5_000,
      runParent: (_ctx, input: { sku: string; cents: number }) => ({
        output: "placed",
        childrenTasks: [
          { task: reserve, input: input.sku },
          { task: charge, input: input.cents },
          { task: ship, input: undefined }
        ]
      })
    })
    const email = executor.task({ id: "send-email", timeoutMs: 5_000, run: (_ctx, to: string) => `sent to ${to}` })
    await executor.start()
    const root = await executor.enqueueTask(order, { sku: "sku-42", cents: 1999 })
    const sent = await executor.enqueueTask(email, "ada@example.com")
    const delayed = await executor.enqueueTask(email, "bob@example.com", { delayMs: 3_600_000 })
    const finished = await root.waitAndGetExecution()
    await sent.waitAndGetExecution()
    const chargeId = (finished.childrenTaskExecutions ?? [])[1]!.executionId
    return {
      rootId: root.getExecutionId(),
      chargeId,
      emailId: sent.getExecutionId(),
      delayedId: delayed.getExecutionId(),
      executorId: "fixture-executor"
    }
  } finally {
    await executor.shutdown()
  }
}
