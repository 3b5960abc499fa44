/**
 * The simulated executor processes of one run: start, kill, crash, graceful shutdown, pause and
 * clock jumps, each process with its own scheduler, clock, faulty storage and faulty wake-ups.
 *
 * @since 0.1.0
 */
import type * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import * as Executor from "../Executor.js"
import { ExecutorConfig, type ExecutorSettings } from "../ExecutorConfig.js"
import * as ExecutorConfigModule from "../ExecutorConfig.js"
import { Ids } from "../Ids.js"
import * as RegistryModule from "../Registry.js"
import { Registry } from "../Registry.js"
import { ScheduleStorage } from "../ScheduleStorage.js"
import type * as SignalsModule from "../Signals.js"
import { Signals } from "../Signals.js"
import type { TaskDefinition } from "../TaskDefinition.js"
import { TaskStorage } from "../TaskStorage.js"
import type { Coverage } from "./Coverage.js"
import type * as Faults from "./Faults.js"
import type { FaultInjector } from "./Faults.js"
import * as FaultySignals from "./FaultySignals.js"
import * as FaultyStorage from "./FaultyStorage.js"
import { instrument } from "./Instrument.js"
import type { Checker } from "./Invariants.js"
import { withOrigin } from "./Observe.js"
import type { ProcessHealth } from "./RunMonitor.js"
import type { ProcessSettings } from "./Scenario.js"
import { type ClockOffset, makeClock, ProcessScheduler, type Timeline } from "./SimulatedTime.js"
import type { Watchdog } from "./Watchdog.js"

/** One simulated executor process. @since 0.1.0 @category models */
export interface SimProcess extends FaultyStorage.ProcessHandle {
  readonly index: number
  readonly id: string
  readonly scheduler: ProcessScheduler
  readonly offset: ClockOffset
  readonly clock: Clock.Clock
  readonly settings: ExecutorSettings
  alive: boolean
  killed: boolean
  stopping: boolean
  scope: Scope.CloseableScope | undefined
  executor: Executor.ExecutorService | undefined
  /** Disturbances so far (see {@link ProcessHealth}). */
  marks: number
  hardMarks: number
  busyUntilMs: number
}

/** What the processes share. @since 0.1.0 @category models */
export interface PoolDeps {
  readonly timeline: Timeline
  readonly coverage: Coverage
  readonly checker: Checker
  readonly faults: FaultInjector
  readonly storage: () => TaskStorage["Type"]
  readonly hub: ReturnType<typeof SignalsModule.makeHub>
  readonly ids: Ids["Type"]
  readonly definitions: ReadonlyArray<TaskDefinition>
  readonly watchdog: Watchdog
  readonly settingsList: ReadonlyArray<ProcessSettings>
  readonly log: (line: string) => void
  /** Forks a harness fiber (interrupted at the end of the run). */
  readonly forkControl: (effect: Effect.Effect<void>) => void
  /** The shared schedules, when the run has any. */
  readonly schedules?: (() => ScheduleStorage["Type"] | undefined) | undefined
}

/** @since 0.1.0 @category models */
export class ProcessPool {
  readonly processes: Array<SimProcess> = []
  /** Largest forward clock offset any process had. */
  maxForwardOffsetMs = 0
  private started = 0
  private readonly byId = new Map<string, SimProcess>()

  constructor(private readonly deps: PoolDeps) {}

  /** The settings of the next process to start (the scenario's, in turn). */
  nextSettings(): ProcessSettings {
    return this.deps.settingsList[this.started++ % this.deps.settingsList.length]!
  }

  health(id: string): ProcessHealth | undefined {
    const p = this.byId.get(id)
    if (p === undefined) return undefined
    return {
      marks: p.marks,
      hardMarks: p.hardMarks,
      busyUntilMs: p.busyUntilMs,
      paused: p.scheduler.paused,
      active: p.alive && !p.stopping && !p.killed,
      pollIntervalMs: p.settings.pollIntervalMs
    }
  }

  /** Counts a disturbance of `process` other than a storage fault. */
  private disturb(process: SimProcess): void {
    process.marks++
    process.hardMarks++
  }

  /** Stops a process at once, as if it died: nothing more of it reaches storage. */
  kill(process: SimProcess): Effect.Effect<void> {
    return Effect.gen(this, function*() {
      if (process.killed) return
      process.killed = true
      process.alive = false
      this.disturb(process)
      process.scheduler.resume()
      this.deps.log(`kill ${process.id}`)
      if (process.executor !== undefined) yield* process.executor.kill
      if (process.scope !== undefined) yield* Scope.close(process.scope, Exit.void)
    })
  }

  /** Starts an executor process; `replacement` counts it as a fault (a new process joining mid-run). */
  start(settings: ProcessSettings, replacement = true): Effect.Effect<SimProcess> {
    const { deps } = this
    return Effect.gen(this, function*() {
      const index = this.processes.length
      const offset: ClockOffset = { offsetMs: 0 }
      const id = `ex${index}`
      const process: SimProcess = {
        index,
        id,
        scheduler: new ProcessScheduler(deps.timeline),
        offset,
        clock: makeClock(deps.timeline, offset),
        settings: { ...ExecutorConfigModule.defaults, ...settings, executorId: id },
        alive: true,
        killed: false,
        stopping: false,
        scope: undefined,
        executor: undefined,
        marks: 0,
        hardMarks: 0,
        busyUntilMs: 0,
        crash: (why) => {
          if (!process.alive) return
          process.alive = false
          this.disturb(process)
          deps.log(`crash ${process.id}: ${why}`)
          deps.forkControl(Effect.gen(this, function*() {
            yield* this.kill(process)
            const delay = deps.faults.restartDelay()
            if (delay === undefined) return
            yield* Effect.sleep(delay)
            if (deps.faults.enabled) yield* this.start(this.nextSettings())
          }))
        },
        disturbed: (busyForMs) => {
          process.marks++
          process.busyUntilMs = Math.max(process.busyUntilMs, deps.timeline.nowMs + busyForMs)
        }
      }
      this.processes.push(process)
      this.byId.set(id, process)
      const scope = yield* Scope.make()
      process.scope = scope
      const storage = deps.watchdog.track(withOrigin(deps.storage(), id, process.settings.leaseLeewayMs), id)
      const signalsHandle = {
        get alive() {
          return process.alive
        },
        cancelDelivered: (ids: ReadonlyArray<string>) => deps.checker.runs.cancelDelivered(id, ids)
      }
      const base = Context.make(TaskStorage, FaultyStorage.make(storage, process, deps.faults)).pipe(
        Context.add(Signals, FaultySignals.make(deps.hub.service, signalsHandle, deps.faults)),
        Context.add(Registry, instrument(RegistryModule.make(deps.definitions), process, deps.checker)),
        Context.add(ExecutorConfig, process.settings),
        Context.add(Ids, deps.ids),
        Context.add(Scope.Scope, scope)
      )
      const schedules = deps.schedules?.()
      const context = schedules === undefined
        ? base
        : Context.add(base, ScheduleStorage, FaultyStorage.schedules(schedules, process, deps.faults))
      process.executor = yield* Executor.make.pipe(
        Effect.orDie, // the scenario's settings are checked before the run
        Effect.provide(context),
        Effect.withClock(process.clock),
        Effect.withScheduler(process.scheduler)
      )
      deps.log(`start ${process.id}`)
      if (replacement) deps.coverage.hit("fault:process started")
      if (!process.alive) yield* this.kill(process)
      return process
    })
  }

  private pickAlive(n: number): SimProcess | undefined {
    const list = this.processes.filter((p) => p.alive && !p.stopping)
    return list.length === 0 ? undefined : list[n % list.length]
  }

  /** Resumes a paused process. */
  resume(process: SimProcess): void {
    if (!process.scheduler.paused) return
    if (this.deps.checker.hasStaleRun(process.id, this.deps.timeline.nowMs)) {
      this.deps.coverage.hit("fault:runner paused past its lease")
    }
    this.deps.log(`resume ${process.id}`)
    this.disturb(process)
    process.scheduler.resume()
  }

  /** Carries out one event of the fault plan (nothing once faults are off). */
  faultEvent(event: Faults.FaultEvent): Effect.Effect<void> {
    const { deps } = this
    return Effect.suspend(() => {
      if (!deps.faults.enabled) return Effect.void
      if (event._tag === "Start") return Effect.asVoid(this.start(this.nextSettings()))
      const process = this.pickAlive(event.process)
      if (process === undefined) return Effect.void
      switch (event._tag) {
        case "Kill": {
          deps.coverage.hit("fault:process killed")
          process.alive = false
          deps.forkControl(this.kill(process))
          return Effect.void
        }
        case "Shutdown": {
          if (process.executor === undefined) return Effect.void
          deps.coverage.hit("fault:graceful shutdown")
          process.stopping = true
          this.disturb(process)
          deps.log(`shutdown ${process.id}`)
          const executor = process.executor
          deps.forkControl(
            Effect.gen(function*() {
              yield* executor.shutdown
              deps.log(`stopped ${process.id}`)
              process.alive = false
              if (process.scope !== undefined) yield* Scope.close(process.scope, Exit.void)
            }).pipe(Effect.withClock(process.clock), Effect.withScheduler(process.scheduler))
          )
          return Effect.void
        }
        case "Pause": {
          if (process.scheduler.paused) return Effect.void
          deps.coverage.hit("fault:process paused")
          deps.log(`pause ${process.id} for ${event.forMs}`)
          this.disturb(process)
          process.scheduler.pause()
          deps.forkControl(Effect.zipRight(Effect.sleep(event.forMs), Effect.sync(() => this.resume(process))))
          return Effect.void
        }
        case "ClockJump": {
          deps.coverage.hit(event.byMs >= 0 ? "fault:clock jump forward" : "fault:clock jump back")
          process.offset.offsetMs += event.byMs
          this.disturb(process)
          this.maxForwardOffsetMs = Math.max(this.maxForwardOffsetMs, process.offset.offsetMs)
          deps.log(`clock ${process.id} ${event.byMs >= 0 ? "+" : ""}${event.byMs} (offset ${process.offset.offsetMs})`)
          return Effect.void
        }
      }
    })
  }
}
