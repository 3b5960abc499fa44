/**
 * The Promise facade's cron schedules: `schedule`, `listSchedules`, `pauseSchedule`,
 * `resumeSchedule` and `deleteSchedule`, methods every `DurableExecutor` inherits from
 * {@link DurableScheduling}. They run the Effect API's schedule operations (`Schedules.ts`).
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import type { CatchUp, ScheduleInfo } from "../CronSchedule.js"
import type { ClientService } from "../DurableExecutor.js"
import type { RegistryService } from "../Registry.js"
import { foreignTaskProblem } from "./Arguments.js"
import { DurableExecutorShutdownError, DurableScheduleError, DurableScheduleNotFoundError } from "./errors.js"
import type { DurableTask } from "./types.js"

/** Options of `executor.schedule(...)`. @since 0.1.0 @category models */
export interface DurableScheduleOptions<TInput> {
  /** The schedule's id: scheduling again with the same id updates that schedule. */
  readonly id: string
  /** Five fields (`"*\/5 * * * *"`), or six with seconds first. */
  readonly cron: string
  /** An IANA time zone name (`"Europe/Paris"`). Default `"UTC"`. */
  readonly timezone?: string | undefined
  /** A task defined with this executor; each tick enqueues one execution of it. */
  readonly task: DurableTask<TInput, any>
  /** The input of every tick's execution, validated when the schedule is defined. */
  readonly input?: TInput | undefined
  /** Ticks missed while no executor ran: `"none"`, `"latest"` (default: the most recent one) or `"all"`. */
  readonly catchUp?: CatchUp | undefined
}

/** A stored schedule. @since 0.1.0 @category models */
export type DurableSchedule = ScheduleInfo

/** What the executor lends its schedule methods. @since 0.1.0 @category models */
export interface SchedulingOps {
  readonly registry: RegistryService
  readonly shuttingDown: boolean
  /** Runs an operation of the executor's client (rejects with the facade's errors). */
  readonly call: <A>(f: (client: ClientService) => Effect.Effect<A, unknown>) => Promise<A>
}

const checkId = (id: unknown, where: string): string => {
  if (typeof id !== "string" || id.length === 0) {
    throw new DurableScheduleNotFoundError(`${where}: a schedule id is a non-empty string, got ${typeof id}`)
  }
  return id
}

/**
 * The schedule methods of `DurableExecutor` (README "Cron schedules").
 *
 * @since 0.1.0
 * @category models
 */
export abstract class DurableScheduling {
  /** The executor's registry and client. */
  protected abstract scheduling(): SchedulingOps

  /** The executor's operations; rejects with DurableExecutorShutdownError once it shuts down. */
  private ops(): SchedulingOps {
    const ops = this.scheduling()
    if (ops.shuttingDown) throw new DurableExecutorShutdownError()
    return ops
  }

  /**
   * Defines a cron schedule, or updates the one with the same id. Every executor on the storage
   * runs it (those that defined its task): each tick enqueues exactly one execution of `task`.
   */
  async schedule<TInput>(options: DurableScheduleOptions<TInput>): Promise<DurableSchedule> {
    const ops = this.ops()
    if (options !== null && typeof options === "object") {
      const problem = foreignTaskProblem(ops.registry, options.task)
      if (problem !== undefined) throw new DurableScheduleError(`schedule ${JSON.stringify(options.id)}: ${problem}`)
    }
    return ops.call((client) => client.schedule(options))
  }

  /** Every schedule of the storage, by id. */
  async listSchedules(): Promise<Array<DurableSchedule>> {
    return Array.from(await this.ops().call((client) => client.listSchedules))
  }

  /** Stops a schedule's ticks until it is resumed; DurableScheduleNotFoundError when none has the id. */
  async pauseSchedule(id: string): Promise<DurableSchedule> {
    checkId(id, "pauseSchedule")
    return this.ops().call((client) => client.pauseSchedule(id))
  }

  /** Resumes a paused schedule from its next tick after now (the pause's ticks are not caught up). */
  async resumeSchedule(id: string): Promise<DurableSchedule> {
    checkId(id, "resumeSchedule")
    return this.ops().call((client) => client.resumeSchedule(id))
  }

  /** Deletes a schedule; the executions it enqueued stay. */
  async deleteSchedule(id: string): Promise<void> {
    checkId(id, "deleteSchedule")
    await this.ops().call((client) => client.deleteSchedule(id))
  }
}
