// The same package loaded with require() (Node >= 20.19 can require ES modules): every entry point
// and the package.json resolve, and a task runs on memory storage.
const durable = require("durable-tasks")
const effectApi = require("durable-tasks/effect")
const testing = require("durable-tasks/testing")
const simulation = require("durable-tasks/simulation")
const manifest = require("durable-tasks/package.json")

const main = async () => {
  const executor = new durable.DurableExecutor(durable.createInMemoryStorage())
  const add = executor.task({ id: "add", timeoutMs: 5_000, run: async (_ctx, input) => input.a + input.b })
  await executor.start()
  const execution = await (await executor.enqueueTask(add, { a: 1, b: 2 })).waitAndGetExecution()
  await executor.shutdown()
  console.log(JSON.stringify({
    name: manifest.name,
    status: execution.status,
    output: execution.output,
    exports: {
      root: typeof durable.createSqliteStorage,
      effect: typeof effectApi.Task.make,
      testing: typeof testing.StorageConformance.check,
      simulation: typeof simulation.SqliteFile.backend
    }
  }))
}
main().catch((error) => {
  console.error(error)
  process.exit(1)
})
