/**
 * `npm start`: the seed README's uploadFile workflow on the embedded default storage, SQLite
 * (`.durable-tasks/demo.db`). A parent task uploads a file, two children extract its title and
 * summarize it in parallel, and a finalize task combines their outputs. The demo prints every
 * execution's status changes and the final output.
 *
 * Kill it half-way (Ctrl-C, `kill -9`, or `npm start -- --crash-after 400`) and run `npm start`
 * again: it resumes the same execution from storage and finishes it. Executions the dead process
 * held run again once their leases lapse (timeout 3 s + leeway 1 s).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { z } from "zod"
import {
  createSqliteStorage,
  DurableExecutor,
  type DurableTask,
  type ExecutionRef,
  FINISHED_STATUSES,
  type TaskStatus
} from "../src/index.js"

const dir = ".durable-tasks"
const idFile = path.join(dir, "demo.id")
fs.mkdirSync(dir, { recursive: true })
const crashIndex = process.argv.indexOf("--crash-after")
const crashAfterMs = crashIndex >= 0 ? Number(process.argv[crashIndex + 1]) : undefined

// ── Storage: the one line to change to use another storage ─────────────────────────────────────
const storage = createSqliteStorage({ filename: path.join(dir, "demo.db") })

const executor = new DurableExecutor(storage, { leaseLeewayMs: 1_000, pollIntervalMs: 200 })
// Up to 3 retries, 100 ms apart: a run whose process died (its lease lapsed) counts as an attempt.
const retryOptions = { maxAttempts: 3, baseDelayMs: 100 }
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const isValidFilePath = (filePath: string) => filePath.length > 0 && !filePath.includes("\0")

const extractFileTitle = executor
  .inputSchema(z.object({ filePath: z.string() }))
  .task({
    id: "extractFileTitle",
    timeoutMs: 3_000,
    retryOptions,
    run: async (_ctx, input) => {
      await sleep(150) // ... extract the file title
      return { title: `Title of ${input.filePath}` }
    }
  })

const summarizeFile = executor
  .validateInput(async (input: { filePath: string }) => {
    if (!isValidFilePath(input.filePath)) throw new Error("Invalid file path")
    return { filePath: input.filePath }
  })
  .task({
    id: "summarizeFile",
    timeoutMs: 3_000,
    retryOptions,
    run: async (ctx, input) => {
      await sleep(250) // ... summarize the file
      if (ctx.attempt === 0) throw new Error("summarizer busy, try again") // shows a retry
      return { summary: `Summary of ${input.filePath}` }
    }
  })

const uploadFile = executor
  .inputSchema(z.object({ filePath: z.string(), uploadUrl: z.string() }))
  .parentTask({
    id: "uploadFile",
    timeoutMs: 3_000,
    retryOptions,
    runParent: async (_ctx, input) => {
      await sleep(100) // ... upload the file to input.uploadUrl
      return {
        output: { filePath: input.filePath, uploadUrl: input.uploadUrl, fileSize: 100 },
        childrenTasks: [
          { task: extractFileTitle, input: { filePath: input.filePath } },
          { task: summarizeFile, input: { filePath: input.filePath } }
        ]
      }
    },
    finalizeTask: {
      id: "onUploadFileAndChildrenComplete",
      timeoutMs: 3_000,
      retryOptions,
      run: async (_ctx, { childrenTasksOutputs, input, output }) => {
        await sleep(100) // ... combine the outputs
        return {
          filePath: input.filePath,
          uploadUrl: input.uploadUrl,
          fileSize: output.fileSize,
          title: (childrenTasksOutputs[0]!.output as { title: string }).title,
          summary: (childrenTasksOutputs[1]!.output as { summary: string }).summary
        }
      }
    }
  })

/** A handle on any execution of the tree, given its reference (getTaskHandle only checks the task id). */
const handleOf = (ref: ExecutionRef) =>
  executor.getTaskHandle({ id: ref.taskId } as DurableTask<unknown, unknown>, ref.executionId)

/**
 * Polls the root and every execution it references, printing each status change. Descendants are
 * read before their parent, so a parent's change never prints before the change that caused it.
 */
const watch = async (root: ExecutionRef, startedAt: number) => {
  const last = new Map<string, TaskStatus>()
  const known = new Map<string, ExecutionRef>([[root.executionId, root]])
  for (;;) {
    for (const ref of Array.from(known.values()).reverse()) {
      const execution = await (await handleOf(ref)).getExecution()
      const previous = last.get(ref.executionId)
      if (previous !== execution.status) {
        const ms = String(Math.round(performance.now() - startedAt)).padStart(5)
        const change = previous === undefined ? execution.status : `${previous} → ${execution.status}`
        const retry = execution.retryAttempts > 0 && execution.status === "ready"
          ? ` (retry ${execution.retryAttempts})`
          : ""
        console.log(`${ms} ms  ${ref.taskId.padEnd(32)} ${ref.executionId}  ${change}${retry}`)
        last.set(ref.executionId, execution.status)
      }
      for (const child of execution.childrenTaskExecutions ?? []) known.set(child.executionId, child)
      if (execution.finalizeTaskExecution) {
        known.set(execution.finalizeTaskExecution.executionId, execution.finalizeTaskExecution)
      }
    }
    const allFinished = Array.from(known.keys()).every((id) => FINISHED_STATUSES.has(last.get(id)!))
    if (allFinished) return
    await sleep(10)
  }
}

async function app() {
  const startedAt = performance.now()
  let handle
  if (fs.existsSync(idFile)) {
    const executionId = fs.readFileSync(idFile, "utf8").trim()
    handle = await executor.getTaskHandle(uploadFile, executionId)
    console.log(
      `resuming ${executionId} from ${path.join(dir, "demo.db")} (status ${(await handle.getExecution()).status})`
    )
  } else {
    handle = await executor.enqueueTask(uploadFile, { filePath: "file.txt", uploadUrl: "https://example.com/upload" })
    fs.writeFileSync(idFile, handle.getExecutionId())
  }
  if (crashAfterMs !== undefined) {
    setTimeout(() => {
      console.log(`SIGKILL after ${crashAfterMs} ms: run \`npm start\` again to resume`)
      process.kill(process.pid, "SIGKILL")
    }, crashAfterMs)
  }
  await watch({ taskId: handle.getTaskId(), executionId: handle.getExecutionId() }, startedAt)
  const finished = await handle.waitAndGetExecution()
  console.log(`\nstatus: ${finished.status}`)
  console.log("output:", JSON.stringify(finished.output, null, 2))
  fs.rmSync(idFile)
}

await Promise.all([executor.start(), app()])
await executor.shutdown()
