/**
 * The browser dashboard: `Dashboard.layer` adds its routes to an app's `HttpLayerRouter` under a
 * prefix; `Serve.serve` runs it standalone. Needs `@effect/platform` and `@effect/platform-node`.
 *
 * @since 0.1.0
 */
import "../internal/EffectVersion.js" // first: names an unsupported effect version
export * as ApiSchema from "./ApiSchema.js"
export * as Auth from "./Auth.js"
export * as Dashboard from "./Dashboard.js"
export * as Serve from "./Serve.js"
