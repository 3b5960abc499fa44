/**
 * The JSON API's handlers (`/api/…`): each answer encoded with its Schema from `ApiSchema.ts`,
 * failures as `{ error }` with 400 (bad filter), 404 (no such execution) or 500 (storage).
 *
 * @since 0.1.0
 */
import * as HttpLayerRouter from "@effect/platform/HttpLayerRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import {
  ActionResult,
  detailOf,
  ExecutionDetail,
  ExecutionsPage,
  Overview,
  summaryOf,
  TreeJson,
  treeOf
} from "./ApiSchema.js"
import type { Data } from "./Data.js"
import * as Filters from "./Filters.js"
import { urlOf } from "./Guard.js"

type Handler = Effect.Effect<
  HttpServerResponse.HttpServerResponse,
  never,
  HttpServerRequest.HttpServerRequest | HttpLayerRouter.RouteContext
>

const fail = (status: number, error: string) => Effect.succeed(HttpServerResponse.unsafeJson({ error }, { status }))

/** Turns the failures of a handler into JSON answers. @since 0.1.0 @category utils */
export const answer = <R>(
  effect: Effect.Effect<HttpServerResponse.HttpServerResponse, { readonly _tag: string }, R>
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, R> =>
  Effect.catchAll(effect, (e: any) => {
    switch (e._tag) {
      case "ExecutionNotFound":
        return fail(404, `no execution ${e.executionId}`)
      case "InvalidQuery":
      case "BadFilter":
      case "ExecutionNotRetryable":
        return fail(400, e.message)
      case "ParseError":
      case "RequestError":
        return fail(400, `bad request: ${String(e.message ?? e)}`)
      default:
        return fail(500, `${e._tag}: ${String(e.message ?? "")}`)
    }
  })

/** @since 0.1.0 @category errors */
export class BadFilter extends Schema.TaggedError<BadFilter>()("BadFilter", { message: Schema.String }) {}

/** The listing options of filters, or a BadFilter. @since 0.1.0 @category utils */
export const optionsOf = (filters: Filters.Filters) =>
  Effect.flatMap(Clock.currentTimeMillis, (nowMs) =>
    Either.match(Filters.toOptions(filters, nowMs), {
      onLeft: (message) => Effect.fail(new BadFilter({ message })),
      onRight: Effect.succeed
    }))

const idParam = Effect.map(HttpLayerRouter.schemaPathParams(Schema.Struct({ id: Schema.String })), (p) => p.id)

/** Body of `POST /api/executions/cancel` and `/retry`: the list filters. @since 0.1.0 @category schemas */
export const SelectionBody = Schema.Struct({
  status: Schema.optionalWith(Schema.String, { default: () => "" }),
  task: Schema.optionalWith(Schema.String, { default: () => "" }),
  since: Schema.optionalWith(Schema.String, { default: () => "" }),
  from: Schema.optionalWith(Schema.String, { default: () => "" }),
  to: Schema.optionalWith(Schema.String, { default: () => "" })
})

/** The API's handlers over the data. @since 0.1.0 @category constructors */
export const handlers = (data: Data): Record<string, Handler> => ({
  overview: answer(Effect.flatMap(data.overview, HttpServerResponse.schemaJson(Overview))),
  executions: answer(Effect.gen(function*() {
    const url = urlOf(yield* HttpServerRequest.HttpServerRequest)
    const filters = Filters.fromParams(url.searchParams)
    const options = yield* optionsOf(filters)
    const limit = url.searchParams.get("limit")
    const page = yield* data.list({
      ...options,
      ...(filters.cursor !== "" ? { cursor: filters.cursor } : {}),
      ...(limit !== null ? { limit: Number(limit) } : {})
    })
    return yield* HttpServerResponse.schemaJson(ExecutionsPage)({
      executions: page.executions.map(summaryOf),
      nextCursor: page.nextCursor
    })
  })),
  execution: answer(Effect.gen(function*() {
    const { execution } = yield* data.execution(yield* idParam)
    return yield* HttpServerResponse.schemaJson(ExecutionDetail)(detailOf(execution))
  })),
  tree: answer(Effect.gen(function*() {
    const tree = yield* data.tree(yield* idParam)
    return yield* HttpServerResponse.schemaJson(TreeJson)(treeOf(tree))
  })),
  cancel: answer(Effect.gen(function*() {
    const execution = yield* data.cancel(yield* idParam)
    return yield* HttpServerResponse.schemaJson(ExecutionDetail)(detailOf(execution))
  })),
  retry: answer(Effect.gen(function*() {
    const execution = yield* data.retry(yield* idParam)
    return yield* HttpServerResponse.schemaJson(ExecutionDetail)(detailOf(execution))
  })),
  cancelMatching: answer(Effect.gen(function*() {
    const body = yield* HttpServerRequest.schemaBodyJson(SelectionBody)
    const options = yield* optionsOf({ ...body, cursor: "" })
    return yield* HttpServerResponse.schemaJson(ActionResult)(yield* data.cancelMatching(options))
  })),
  retryMatching: answer(Effect.gen(function*() {
    const body = yield* HttpServerRequest.schemaBodyJson(SelectionBody)
    const options = yield* optionsOf({ ...body, cursor: "" })
    return yield* HttpServerResponse.schemaJson(ActionResult)(yield* data.retryMatching(options))
  }))
})
