/**
 * The seed README's (`durable-execution`) Usage example, run through the Promise facade with its
 * documented output: a fresh executor and storage, real timers.
 */
import { describe, expect, it } from "vitest"
import { z } from "zod"
import { createInMemoryStorage, DurableExecutor } from "../src/index.js"
import type { runToEnd } from "./support/facade.js"

describe("README: Usage", () => {
  it("uploadFile workflow: parallel children, finalize, handle lifecycle", async () => {
    const executor = new DurableExecutor(createInMemoryStorage(), { logLevel: "none" })
    const isValidFilePath = (filePath: string) => filePath.length > 0 && !filePath.includes("\0")
    const seen: Array<string> = []

    const extractFileTitle = executor
      .inputSchema(z.object({ filePath: z.string() }))
      .task({
        id: "extractFileTitle",
        timeoutMs: 30_000,
        run: async (_ctx, input) => {
          seen.push(`extract:${input.filePath}`)
          return { title: "File Title" }
        }
      })

    const summarizeFile = executor
      .validateInput(async (input: { filePath: string }) => {
        if (!isValidFilePath(input.filePath)) throw new Error("Invalid file path")
        return { filePath: input.filePath }
      })
      .task({
        id: "summarizeFile",
        timeoutMs: 30_000,
        run: async (_ctx, input) => {
          seen.push(`summarize:${input.filePath}`)
          return { summary: "File summary" }
        }
      })

    const uploadFile = executor
      .inputSchema(z.object({ filePath: z.string(), uploadUrl: z.string() }))
      .parentTask({
        id: "uploadFile",
        timeoutMs: 60_000,
        runParent: async (_ctx, input) => ({
          output: { filePath: input.filePath, uploadUrl: input.uploadUrl, fileSize: 100 },
          childrenTasks: [
            { task: extractFileTitle, input: { filePath: input.filePath } },
            { task: summarizeFile, input: { filePath: input.filePath } }
          ]
        }),
        finalizeTask: {
          id: "onUploadFileAndChildrenComplete",
          timeoutMs: 60_000,
          run: async (_ctx, { childrenTasksOutputs, input, output }) => ({
            filePath: input.filePath,
            uploadUrl: input.uploadUrl,
            fileSize: output.fileSize,
            title: (childrenTasksOutputs[0]!.output as { title: string }).title,
            summary: (childrenTasksOutputs[1]!.output as { summary: string }).summary
          })
        }
      })

    const results: Record<string, unknown> = {}
    const app = async () => {
      const handle = await executor.enqueueTask(uploadFile, {
        filePath: "file.txt",
        uploadUrl: "https://example.com/upload"
      })
      const execution = await handle.getExecution()
      const finished = await handle.waitAndGetExecution()
      await handle.cancel()
      results.execution = execution
      results.finished = finished
      results.afterCancel = await handle.getExecution()
    }

    await Promise.all([executor.start(), app()])
    await executor.shutdown()

    const execution = results.execution as Awaited<ReturnType<typeof runToEnd>>
    expect(execution.taskId).toBe("uploadFile")
    expect(execution.executionId).toMatch(/^te_/)
    expect(["ready", "running", "waiting_for_children_tasks", "waiting_for_finalize_task", "completed"]).toContain(
      execution.status
    )
    expect(execution.runInput).toEqual({ filePath: "file.txt", uploadUrl: "https://example.com/upload" })

    const expected = {
      filePath: "file.txt",
      uploadUrl: "https://example.com/upload",
      fileSize: 100,
      title: "File Title",
      summary: "File summary"
    }
    const finished = results.finished as typeof execution
    expect(finished.status).toBe("completed")
    expect(finished.output).toEqual(expected)
    expect(finished.childrenTaskExecutions?.map((c) => c.taskId)).toEqual(["extractFileTitle", "summarizeFile"])
    expect(finished.finalizeTaskExecution?.taskId).toBe("onUploadFileAndChildrenComplete")
    expect(seen.sort()).toEqual(["extract:file.txt", "summarize:file.txt"])
    // Cancelling a finished execution changes nothing.
    const afterCancel = results.afterCancel as typeof execution
    expect(afterCancel.status).toBe("completed")
    expect(afterCancel.output).toEqual(expected)
  })
})
