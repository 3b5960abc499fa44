/**
 * The Standard Schema interface (https://standardschema.dev), so any schema library works for
 * `inputSchema`: zod, valibot, arktype, or effect's `Schema.standardSchemaV1(schema)`.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 @category models */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly "~standard": {
    readonly version: 1
    readonly vendor: string
    readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>
    readonly types?: { readonly input: Input; readonly output: Output } | undefined
  }
}

/** @since 0.1.0 @category models */
export type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | {
    readonly issues: ReadonlyArray<{
      readonly message: string
      readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined
    }>
  }

/** @since 0.1.0 @category models */
export type InferInput<S> = S extends StandardSchemaV1<infer I, any> ? I : never
/** @since 0.1.0 @category models */
export type InferOutput<S> = S extends StandardSchemaV1<any, infer O> ? O : never

/** One readable line per issue: `path: message`. @since 0.1.0 @category utils */
export const formatIssues = (issues: Extract<StandardResult<unknown>, { issues: any }>["issues"]): string =>
  issues.map((issue) => {
    const path = (issue.path ?? []).map((p) => (typeof p === "object" ? String(p.key) : String(p))).join(".")
    return path === "" ? issue.message : `${path}: ${issue.message}`
  }).join("; ")
