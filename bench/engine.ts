/**
 * The package under test. `bench/run.ts` compiles `src` with `tsc` (as `npm run build` does) and points
 * DURABLE_TASKS_BENCH_ENGINE at the build, so that figures are those of the JavaScript users run;
 * without it (or with `--engine src`) the TypeScript sources are loaded through tsx, whose transform
 * (esbuild with keepNames) makes every closure heavier and the hot path measurably slower.
 */
import type * as Engine from "../src/index.js"

const location = process.env["DURABLE_TASKS_BENCH_ENGINE"]

export const engine: typeof Engine = location === undefined || location === ""
  ? await import("../src/index.js")
  : ((await import(location)) as typeof Engine)

/** Where the engine was loaded from, for the report. */
export const engineSource: string = location === undefined || location === "" ? "src (tsx)" : "build (tsc)"
