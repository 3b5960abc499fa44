/**
 * durable-tasks/testing: the storage conformance kit, for property-testing any `TaskStorage`
 * against a naive reference model (a map and linear scans), one call at a time and in races.
 *
 * @since 0.1.0
 */
import "../internal/EffectVersion.js" // first: names an unsupported effect version
export * as StorageConformance from "./StorageConformance.js"
