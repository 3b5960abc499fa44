import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "simulation/**/*.test.ts"],
    // A Postgres server for the SQL storage tests: DATABASE_URL, or a throwaway embedded one.
    globalSetup: ["test/support/postgresGlobalSetup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000
  }
})
