/**
 * durable-tasks/testing: the storage conformance kit, for property-testing any `TaskStorage`
 * against the in-memory reference.
 *
 * @since 0.1.0
 */
import "../internal/EffectVersion.js" // first: names an unsupported effect version
export * as StorageConformance from "./StorageConformance.js"
