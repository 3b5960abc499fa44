/**
 * The dashboard mounted in an app's own HttpLayerRouter under a prefix (beside the app's routes),
 * and the `dashboard` CLI command serving a SQLite file given by `--db`.
 */
import * as Command from "@effect/cli/Command"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpLayerRouter from "@effect/platform/HttpLayerRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import { createServer } from "node:http"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { dashboard } from "../../src/cli/dashboard.js"
import * as Dashboard from "../../src/dashboard/Dashboard.js"
import * as DurableExecutor from "../../src/DurableExecutor.js"
import * as SqliteStorage from "../../src/SqliteStorage.js"
import * as Task from "../../src/Task.js"
import { tempDir } from "../support/sql.js"

const echo = Task.make({ id: "echo", timeoutMs: 5_000, run: (input: number) => Effect.succeed(input + 1) })

describe("the dashboard mounted in an app", () => {
  it("serves under the prefix beside the app's own routes", async () => {
    const tmp = tempDir()
    const storage = SqliteStorage.layer({ filename: path.join(tmp.dir, "app.db") })
    const app = Layer.mergeAll(
      HttpLayerRouter.add("GET", "/health", HttpServerResponse.text("ok")),
      Dashboard.layer({ prefix: "/ops/", token: "app-token" })
    )
    const program = Effect.gen(function*() {
      const dx = yield* DurableExecutor.DurableExecutor
      const id = yield* dx.enqueue(echo, 1)
      yield* dx.wait(id)
      const address = yield* HttpServer.addressWith(Effect.succeed)
      const base = `http://127.0.0.1:${address._tag === "TcpAddress" ? address.port : 0}`
      return yield* Effect.promise(async () => {
        const health = await (await fetch(`${base}/health`)).text()
        const denied = (await fetch(`${base}/ops/`)).status
        const bare = await fetch(`${base}/ops?token=app-token`, { redirect: "manual" })
        const signIn = await fetch(`${base}/ops/?token=app-token`, { redirect: "manual" })
        const auth = { authorization: "Bearer app-token" }
        const list = await (await fetch(`${base}/ops/executions`, { headers: auth })).text()
        const one = await (await fetch(`${base}/ops/api/executions/${id}`, { headers: auth })).json()
        return { id, health, denied, bare: bare.headers.get("location"), signIn, list, one }
      })
    })
    const result = await Effect.runPromise(
      Effect.scoped(
        Effect.flatMap(
          Layer.build(
            HttpLayerRouter.serve(app, { disableListenLog: true, disableLogger: true }).pipe(
              Layer.provideMerge(NodeHttpServer.layer(createServer, { host: "127.0.0.1", port: 0 })),
              Layer.provideMerge(DurableExecutor.layer({ tasks: [echo], pollIntervalMs: 50 })),
              Layer.provideMerge(storage)
            )
          ),
          (context) => Effect.provide(program, context)
        )
      )
    )
    tmp.remove()
    expect(result.health).toBe("ok")
    expect(result.denied).toBe(401)
    expect(result.bare).toBe("/ops") // the router ignores a trailing slash
    expect(result.signIn.status).toBe(303)
    expect(result.signIn.headers.get("location")).toBe("/ops/")
    expect(result.signIn.headers.get("set-cookie")).toBe(
      "durable_tasks_dashboard=app-token; Path=/ops; HttpOnly; SameSite=Strict"
    )
    expect(result.list).toContain(`href="/ops/execution?id=${result.id}"`)
    expect(result.list).toContain(`src="/ops/assets/dashboard.js"`)
    expect(result.one).toMatchObject({ executionId: result.id, status: "completed", input: 1, output: 2 })
  })

  it("the dashboard command serves the --db file with --token, and warns for a non-loopback host", async () => {
    const tmp = tempDir()
    const filename = path.join(tmp.dir, "cli.db")
    // The CLI never creates a database: the app's storage made this one.
    await Effect.runPromise(Effect.scoped(Layer.build(SqliteStorage.layer({ filename }))))
    const lines: Array<string> = []
    const base = Effect.runSync(Console.consoleWith(Effect.succeed))
    const capture = (...args: ReadonlyArray<unknown>) => Effect.sync(() => void lines.push(args.join(" ")))
    const cli = Command.run(dashboard, { name: "durable-tasks", version: "0.1.0" })
    const fiber = Effect.runFork(
      cli([
        "node",
        "durable-tasks",
        "--db",
        `sqlite:${filename}`,
        "--host",
        "0.0.0.0",
        "--port",
        "0",
        "--token",
        "cli-token"
      ]).pipe(
        Effect.provide(NodeContext.layer),
        Console.withConsole({ ...base, log: capture, warn: capture })
      )
    )
    try {
      for (let i = 0; i < 200 && !lines.some((l) => l.includes("token=")); i++) {
        await new Promise((r) => setTimeout(r, 50))
      }
      const url = lines.find((l) => l.startsWith("dashboard: http"))!.slice("dashboard: ".length)
      expect(url).toMatch(/^http:\/\/0\.0\.0\.0:\d+\/\?token=cli-token$/)
      expect(lines.some((l) => l.includes("warning: listening on 0.0.0.0"))).toBe(true)
      const port = new URL(url).port
      const overview = await fetch(`http://127.0.0.1:${port}/api/overview`, {
        headers: { authorization: "Bearer cli-token" }
      })
      expect(overview.status).toBe(200)
      expect(await overview.json()).toMatchObject({ byStatus: {}, byTask: {}, latestFailures: [] })
    } finally {
      await Effect.runPromise(Fiber.interrupt(fiber))
      tmp.remove()
    }
  })
})
