/**
 * durable-tasks/simulation: run your own task definitions and workload on the real engine, on
 * simulated time, under crashes, lapsed leases, clock jumps, storage faults and lost wake-ups,
 * from a seed; get the engine's invariants checked at every step, and your own properties over
 * the outcome; on the in-memory backend or on a SQLite file (`SqliteFile.backend`).
 *
 * @since 0.1.0
 */
import "../internal/EffectVersion.js" // first: names an unsupported effect version
export * as Coverage from "./Coverage.js"
export * as Faults from "./Faults.js"
export * as FaultySignals from "./FaultySignals.js"
export * as FaultyStorage from "./FaultyStorage.js"
export * as Invariants from "./Invariants.js"
export * as PlainTime from "./PlainTime.js"
export * as Prng from "./Prng.js"
export * as SimulatedTime from "./SimulatedTime.js"
export * as Simulation from "./Simulation.js"
export * as SqliteFile from "./SqliteFile.js"
export * as Trace from "./Trace.js"
