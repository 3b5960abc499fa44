import { describe, expect, it } from "vitest"
import { withExecutor } from "./support/facade.js"

describe("flow control through the facade", () => {
  it("concurrency.perKey: at most one running per key; enqueue options priority and concurrencyKey", async () => {
    await withExecutor(async (executor) => {
      const running = new Map<string, number>()
      let worst = 0
      const order: Array<number> = []
      const task = executor.task({
        id: "sync",
        timeoutMs: 10_000,
        concurrency: { perKey: 1 },
        run: async (_ctx, input: { key: string; n: number }) => {
          running.set(input.key, (running.get(input.key) ?? 0) + 1)
          worst = Math.max(worst, running.get(input.key)!)
          order.push(input.n)
          await new Promise((resolve) => setTimeout(resolve, 5))
          running.set(input.key, running.get(input.key)! - 1)
          return input.n
        }
      })
      const handles = await Promise.all(
        Array.from(
          { length: 12 },
          (_, n) => executor.enqueueTask(task, { key: `k${n % 3}`, n }, { concurrencyKey: `k${n % 3}`, priority: n })
        )
      )
      for (const h of handles) expect((await h.waitAndGetExecution()).status).toBe("completed")
      expect(worst).toBe(1)
    })
  })

  it("refuses a bad concurrency option and a bad priority", async () => {
    await withExecutor(async (executor) => {
      expect(() => executor.task({ id: "bad", timeoutMs: 1, concurrency: { limit: 0 }, run: () => 1 })).toThrow(
        /limit must be an integer/
      )
      const ok = executor.task({ id: "ok", timeoutMs: 1_000, run: () => 1 })
      await expect(executor.enqueueTask(ok, undefined, { priority: 1.5 })).rejects.toThrow(/priority/)
    })
  })
})
