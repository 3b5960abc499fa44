/**
 * The dashboard in a real browser (Debian's chromium through playwright-core), over a real SQLite
 * file with an executor running real tasks in the same file: the printed URL signs in once (then a
 * cookie), the overview's counts, filter to failed, one execution's error and stack, the tree's
 * failed path, cancel of a running execution (with a confirm step), live updates without a reload,
 * an XSS payload shown as text and never run, 401 without the token, cross-origin and read-only
 * refusals (403). Screenshots go to .tmp/dashboard-screenshots/.
 */
import * as Effect from "effect/Effect"
import * as path from "node:path"
import type { Browser, Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as DurableExecutor from "../../src/DurableExecutor.js"
import * as Task from "../../src/Task.js"
import { tempDir } from "../support/sql.js"
import { executorRuntime, launch, screenshotsDir, type Served, startDashboard } from "./support.js"

const XSS = "<script>window.__xss = 1</script><img src=x onerror=\"window.__xss = 2\">"

const boom = Task.make({
  id: "boom",
  timeoutMs: 5_000,
  run: (input: { readonly why: string }) => Effect.fail(new Error(`boom: ${input.why}`))
})
const echo = Task.make({ id: "echo", timeoutMs: 5_000, run: (input: unknown) => Effect.succeed({ echoed: input }) })
const slow = Task.make({ id: "slow", timeoutMs: 120_000, run: () => Effect.as(Effect.sleep("100 seconds"), "late") })
let flakyRuns = 0
const flaky = Task.make({
  id: "flaky",
  timeoutMs: 5_000,
  run: () =>
    Effect.suspend(() => (++flakyRuns === 1 ? Effect.fail(new Error("first run fails")) : Effect.succeed("ok")))
})
const shakyRuns = new Map<number, number>()
const shaky = Task.make({
  id: "shaky",
  timeoutMs: 5_000,
  run: (n: number) =>
    Effect.suspend(() => {
      const runs = (shakyRuns.get(n) ?? 0) + 1
      shakyRuns.set(n, runs)
      return runs === 1 ? Effect.fail(new Error(`shaky ${n} fails once`)) : Effect.succeed(`ok ${n}`)
    })
})
const family = Task.parent({
  id: "family",
  timeoutMs: 5_000,
  runParent: () =>
    Effect.succeed({ output: "parent", children: [Task.child(echo, "first"), Task.child(boom, { why: "child" })] })
})

const tmp = tempDir()
const filename = path.join(tmp.dir, "dashboard.db")
const runtime = executorRuntime(filename, [boom, echo, slow, family, flaky, shaky])
const run = <A, E>(f: (dx: DurableExecutor.DurableExecutorService) => Effect.Effect<A, E>) =>
  runtime.runPromise(Effect.flatMap(DurableExecutor.DurableExecutor, f))

let browser: Browser
let served: Served
let origin: string
const pageErrors: Array<string> = []
let ids: { boom: string; echo: string; xss: string; slow: string; family: string }
const shots = screenshotsDir()

const waitFor = async (check: () => Promise<boolean>, what: string, timeoutMs = 10_000) => {
  const until = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

const signedIn = async (url = served.url): Promise<Page> => {
  const page = await browser.newPage()
  page.on("pageerror", (e) => pageErrors.push(String(e)))
  page.on("console", (m) => pageErrors.push(`console ${m.type()}: ${m.text()}`))
  await page.goto(url)
  return page
}

beforeAll(async () => {
  ids = {
    boom: await run((dx) => dx.enqueue(boom, { why: "bad input" })),
    echo: await run((dx) => dx.enqueue(echo, 42)),
    xss: await run((dx) => dx.enqueue(echo, { note: XSS })),
    slow: await run((dx) => dx.enqueue(slow, undefined)),
    family: await run((dx) => dx.enqueue(family, undefined))
  }
  await run((dx) => Effect.all([dx.wait(ids.boom), dx.wait(ids.echo), dx.wait(ids.xss), dx.wait(ids.family)]))
  await waitFor(async () => (await run((dx) => dx.get(ids.slow))).status === "running", "slow to run")
  served = await startDashboard(filename)
  origin = new URL(served.url).origin
  browser = await launch()
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await served?.stop()
  await runtime.dispose()
  tmp.remove()
})

describe("dashboard in chromium", () => {
  afterAll(() => {
    // no script error, no CSP violation, no failed resource in any page
    expect(pageErrors).toEqual([])
  })

  it("binds loopback and prints its URL with a random token once", () => {
    const url = new URL(served.url)
    expect(url.hostname).toBe("127.0.0.1")
    expect(url.searchParams.get("token")).toMatch(/^[A-Za-z0-9_-]{32}$/)
    expect(served.lines.filter((l) => l.includes("token="))).toHaveLength(1)
  })

  it("signs in through the printed URL, drops the token from the address, shows the overview's counts", async () => {
    const page = await signedIn()
    expect(new URL(page.url()).searchParams.has("token")).toBe(false)
    const cookies = await page.context().cookies()
    expect(cookies.map((c) => [c.name, c.httpOnly, c.sameSite])).toEqual([["durable_tasks_dashboard", true, "Strict"]])
    await expect(page.locator("h1").textContent()).resolves.toBe("Overview")
    // boom itself and family's boom child failed; family failed with its child
    expect(await page.locator("[data-status=failed] .n").textContent()).toBe("2")
    expect(await page.locator("[data-status=children_tasks_failed] .n").textContent()).toBe("1")
    expect(await page.locator("[data-status=running] .n").textContent()).toBe("1")
    expect(await page.locator("[data-task=echo] .n").textContent()).toBe("3")
    expect(await page.locator("svg.chart rect.finished").count()).toBe(60)
    expect(await page.locator("table.executions tr[data-id]").count()).toBe(3)
    await page.screenshot({ path: path.join(shots, "overview.png"), fullPage: true })
    await page.close()
  })

  it("filters to failed, opens one, shows its error and stack", async () => {
    const page = await signedIn()
    await page.click("header >> text=Executions")
    await page.selectOption("select[name=status]", "failed")
    await page.click("form.filters button[type=submit]")
    expect(new URL(page.url()).searchParams.get("status")).toBe("failed")
    const statuses = await page.locator("table.executions tr[data-id] .status").allTextContents()
    expect(statuses).toEqual(["failed", "failed"])
    await page.screenshot({ path: path.join(shots, "executions-failed.png"), fullPage: true })
    await page.click(`table.executions a:text("${ids.boom}")`)
    expect(await page.locator("#error .message").textContent()).toBe("boom: bad input")
    const stack = await page.locator("#stack").textContent()
    expect(stack).toContain("Error: boom: bad input")
    expect(stack).toContain("dashboard.test.ts")
    expect(await page.locator("table.attempts tbody tr").count()).toBe(1)
    await page.screenshot({ path: path.join(shots, "execution-failed.png"), fullPage: true })
    await page.fill("header input[name=id]", ` ${ids.echo} `)
    await page.click("header button")
    expect(await page.locator("#execution-id").textContent()).toBe(ids.echo)
    await page.fill("header input[name=id]", "te_nope")
    await page.click("header button")
    expect(await page.locator("main .error").textContent()).toBe("task execution te_nope not found")
    expect(pageErrors.pop()).toContain("status of 404") // the not-found page itself
    await page.close()
  })

  it("draws the tree with the failed path highlighted and collapsible nodes", async () => {
    const page = await signedIn()
    const children = (await run((dx) => dx.get(ids.family))).childrenTaskExecutions!
    await page.goto(`${origin}/tree?id=${children[1]!.executionId}`)
    const failedPath = await page.locator(".failed-path").evaluateAll((els) =>
      els.map((e) => e.closest("li")!.getAttribute("data-id"))
    )
    expect(failedPath).toEqual([ids.family, children[1]!.executionId])
    const ok = page.locator(`li[data-id="${children[0]!.executionId}"]`)
    await expect(ok.getAttribute("class")).resolves.not.toContain("failed-path")
    await page.screenshot({ path: path.join(shots, "tree.png"), fullPage: true })
    await page.click(`details[data-key="${ids.family}"] > summary`)
    expect(await ok.isVisible()).toBe(false)
    await page.close()
  })

  it("shows an XSS payload as text and runs nothing", async () => {
    const page = await signedIn()
    await page.goto(`${origin}/execution?id=${ids.xss}`)
    expect(await page.locator("#input pre").first().textContent()).toContain(XSS.replace(/"/g, "\\\""))
    expect(await page.locator("#output").textContent()).toContain("<script>")
    expect(await page.evaluate(() => (window as any).__xss)).toBeUndefined()
    expect(await page.locator("main script, main img").count()).toBe(0)
    await page.screenshot({ path: path.join(shots, "execution-xss.png"), fullPage: true })
    await page.close()
  })

  it("updates the overview within 2 s without a reload", async () => {
    const page = await signedIn()
    await page.evaluate(() => ((window as any).__marker = "same page"))
    const before = await page.locator("[data-task=echo] .n").textContent()
    await run((dx) => Effect.flatMap(dx.enqueue(echo, "live"), (id) => dx.wait(id)))
    const started = Date.now()
    await page.waitForFunction(
      (n) => document.querySelector("[data-task=echo] .n")?.textContent === n,
      String(Number(before) + 1),
      { timeout: 2_000 }
    )
    expect(Date.now() - started).toBeLessThan(2_000)
    expect(await page.evaluate(() => (window as any).__marker)).toBe("same page")
    await page.close()
  })

  it("cancels a running execution after a confirm step; its runner is interrupted", async () => {
    const page = await signedIn()
    await page.goto(`${origin}/execution?id=${ids.slow}`)
    expect(await page.locator("main .status").first().textContent()).toBe("running")
    await page.click("#cancel")
    expect(await page.locator("h1").textContent()).toBe("Cancel?")
    expect((await run((dx) => dx.get(ids.slow))).status).toBe("running")
    await page.screenshot({ path: path.join(shots, "cancel-confirm.png"), fullPage: true })
    await page.click("#confirm")
    expect(new URL(page.url()).pathname).toBe("/execution")
    expect(await page.locator("main .status").first().textContent()).toBe("cancelled")
    expect(await page.locator("#cancel").count()).toBe(0)
    const after = await run((dx) => dx.wait(ids.slow))
    expect(after.status).toBe("cancelled")
    await page.screenshot({ path: path.join(shots, "execution-cancelled.png"), fullPage: true })
    await page.close()
  })

  it("refuses a request without the token (401) and with a wrong one", async () => {
    for (const p of ["/", "/executions", "/assets/dashboard.js", "/api/overview", `/api/executions/${ids.echo}`]) {
      expect((await fetch(origin + p)).status).toBe(401)
    }
    expect((await fetch(`${origin}/?token=wrong`, { redirect: "manual" })).status).toBe(401)
    const token = new URL(served.url).searchParams.get("token")!
    const api = await fetch(`${origin}/api/executions?status=failed`, { headers: { authorization: `Bearer ${token}` } })
    expect(api.status).toBe(200)
    const body = await api.json() as { executions: Array<{ status: string }> }
    expect(body.executions.map((e) => e.status)).toEqual(["failed", "failed"])
  })

  it("refuses a cross-origin POST and a POST without Origin (403)", async () => {
    const id = await run((dx) => dx.enqueue(slow, undefined, { delayMs: 600_000 }))
    const token = new URL(served.url).searchParams.get("token")!
    const cookie = `durable_tasks_dashboard=${token}`
    for (const headers of [{ cookie, origin: "http://evil.example" }, { cookie }]) {
      const r = await fetch(`${origin}/api/executions/${id}/cancel`, { method: "POST", headers })
      expect(r.status).toBe(403)
      const form = await fetch(`${origin}/actions/cancel`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/x-www-form-urlencoded" },
        body: `id=${id}&confirm=1`
      })
      expect(form.status).toBe(403)
    }
    expect((await run((dx) => dx.get(id))).status).toBe("ready")
    const same = await fetch(`${origin}/api/executions/${id}/cancel`, {
      method: "POST",
      headers: { cookie, origin }
    })
    expect(same.status).toBe(200)
    expect((await same.json() as { status: string }).status).toBe("cancelled")
  })

  it("read-only hides the actions and refuses them (403)", async () => {
    const readOnly = await startDashboard(filename, { readOnly: true, token: "read-only-token" })
    try {
      const id = await run((dx) => dx.enqueue(slow, undefined, { delayMs: 600_000 }))
      const page = await signedIn(readOnly.url)
      await page.goto(`${new URL(readOnly.url).origin}/execution?id=${id}`)
      expect(await page.locator("main .status").first().textContent()).toBe("ready")
      expect(await page.locator("#cancel").count()).toBe(0)
      await page.goto(`${new URL(readOnly.url).origin}/executions`)
      expect(await page.locator("text=Cancel all matching").count()).toBe(0)
      await page.close()
      const r = await fetch(`${new URL(readOnly.url).origin}/api/executions/${id}/cancel`, {
        method: "POST",
        headers: { cookie: "durable_tasks_dashboard=read-only-token", origin: new URL(readOnly.url).origin }
      })
      expect(r.status).toBe(403)
      expect((await run((dx) => dx.get(id))).status).toBe("ready")
      const bulk = await fetch(`${new URL(readOnly.url).origin}/api/executions/retry`, {
        method: "POST",
        headers: {
          cookie: "durable_tasks_dashboard=read-only-token",
          origin: new URL(readOnly.url).origin,
          "content-type": "application/json"
        },
        body: JSON.stringify({ status: "failed" })
      })
      expect(bulk.status).toBe(403)
      expect((await run((dx) => dx.get(ids.boom))).status).toBe("failed")
    } finally {
      await readOnly.stop()
    }
  })

  it("retries a failed execution after a confirm step and shows it complete, live", async () => {
    const id = await run((dx) => Effect.flatMap(dx.enqueue(flaky, undefined), (id) => Effect.as(dx.wait(id), id)))
    const page = await signedIn()
    await page.goto(`${origin}/execution?id=${id}`)
    expect(await page.locator("main .status").first().textContent()).toBe("failed")
    await page.click("#retry")
    expect(await page.locator("h1").textContent()).toBe("Retry?")
    await page.click("#confirm")
    await page.waitForFunction(() => document.querySelector("main .status")?.textContent === "completed", undefined, {
      timeout: 5_000
    })
    expect(await page.locator("#output").textContent()).toContain("\"ok\"")
    expect(await page.locator("table.attempts tbody tr").count()).toBe(2)
    await page.screenshot({ path: path.join(shots, "execution-retried.png"), fullPage: true })
    await page.close()
  })

  it("cancels every unfinished execution matching a filter, after a confirm step", async () => {
    const waiting = await run((dx) => dx.enqueueMany(slow, [undefined, undefined, undefined], { delayMs: 600_000 }))
    const before = await run((dx) => dx.listExecutions({ status: "ready", taskId: "slow" }))
    expect(before.executions.length).toBeGreaterThanOrEqual(3)
    const page = await signedIn()
    await page.goto(`${origin}/executions?status=ready&task=slow`)
    expect(await page.locator("table.executions tr[data-id]").count()).toBe(before.executions.length)
    await page.click("text=Cancel all matching")
    expect(await page.locator(".notice").textContent()).toContain(`${before.executions.length} unfinished now`)
    expect((await run((dx) => dx.get(waiting[0]!))).status).toBe("ready")
    await page.click("#confirm")
    expect(await page.locator("#result").textContent()).toContain(
      `${before.executions.length} of ${before.executions.length} matching executions`
    )
    for (const id of waiting) expect((await run((dx) => dx.get(id))).status).toBe("cancelled")
    expect((await run((dx) => dx.listExecutions({ status: "ready" }))).executions).toEqual([])
    await page.close()
  })

  it("retries every failed execution matching a filter, after a confirm step, and they complete", async () => {
    const shakyIds = await run((dx) =>
      Effect.flatMap(
        dx.enqueueMany(shaky, [1, 2, 3]),
        (ids) => Effect.as(Effect.forEach(ids, (id) => dx.wait(id)), ids)
      )
    )
    for (const id of shakyIds) expect((await run((dx) => dx.get(id))).status).toBe("failed")
    const token = new URL(served.url).searchParams.get("token")!
    const evil = await fetch(`${origin}/api/executions/retry`, {
      method: "POST",
      headers: { cookie: `durable_tasks_dashboard=${token}`, origin: "http://evil.example" },
      body: JSON.stringify({ status: "failed", task: "shaky" })
    })
    expect(evil.status).toBe(403)
    const page = await signedIn()
    await page.goto(`${origin}/executions`)
    await page.selectOption("select[name=status]", "failed")
    await page.selectOption("select[name=task]", "shaky")
    await page.click("form.filters button[type=submit]")
    expect(await page.locator("table.executions tr[data-id]").count()).toBe(3)
    await page.click("text=Retry all matching")
    expect(await page.locator("h1").textContent()).toBe("Retry matching executions?")
    expect(await page.locator(".notice").textContent()).toContain("3 to retry now")
    expect((await run((dx) => dx.get(shakyIds[0]!))).status).toBe("failed")
    await page.screenshot({ path: path.join(shots, "retry-matching-confirm.png"), fullPage: true })
    await page.click("#confirm")
    expect(await page.locator("#result").textContent()).toContain("3 of 3 matching executions")
    await page.goto(`${origin}/executions?task=shaky`)
    await page.waitForFunction(
      () =>
        Array.from(document.querySelectorAll("table.executions tr[data-id] .status"), (e) => e.textContent).join() ===
          "completed,completed,completed",
      undefined,
      { timeout: 5_000 }
    )
    for (const [i, id] of shakyIds.entries()) {
      const after = await run((dx) => dx.get(id))
      expect([after.status, after.output]).toEqual(["completed", `ok ${i + 1}`])
    }
    expect(await run((dx) => dx.get(ids.boom))).toMatchObject({ status: "failed" }) // another task: left alone
    await page.close()
  })
})
