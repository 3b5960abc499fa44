/**
 * The simulation harness: runs the real planner, storage driver and executor loops of several
 * executor processes that share one storage, on simulated time, under faults drawn from a seed.
 * Every storage commit is checked against the engine's safety invariants; then faults stop and
 * every execution must finish within the liveness bound of DESIGN.md §3. The same seed gives the
 * same run, down to the hash of its trace.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import type * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Runtime from "effect/Runtime"
import * as Scope from "effect/Scope"
import * as DurableExecutor from "../DurableExecutor.js"
import type { EnqueueOptions, TaskLike } from "../DurableExecutor.js"
import type { ExecutionRow } from "../ExecutionRow.js"
import * as Executor from "../Executor.js"
import { ExecutorConfig, type ExecutorSettings } from "../ExecutorConfig.js"
import * as ExecutorConfigModule from "../ExecutorConfig.js"
import { Ids } from "../Ids.js"
import * as IdsModule from "../Ids.js"
import * as MemoryStorage from "../MemoryStorage.js"
import * as RegistryModule from "../Registry.js"
import { Registry, type RegistryService } from "../Registry.js"
import * as SignalsModule from "../Signals.js"
import { Signals } from "../Signals.js"
import * as StorageDriver from "../StorageDriver.js"
import type { TaskDefinition } from "../TaskDefinition.js"
import * as TaskExecution from "../TaskExecution.js"
import { TaskStorage } from "../TaskStorage.js"
import { Coverage, CoverageSummary } from "./Coverage.js"
import * as Faults from "./Faults.js"
import { FaultInjector, type FaultPlan } from "./Faults.js"
import * as FaultySignals from "./FaultySignals.js"
import * as FaultyStorage from "./FaultyStorage.js"
import { Checker, observe, withOrigin } from "./Invariants.js"
import { Prng } from "./Prng.js"
import { type ClockOffset, makeClock, ProcessScheduler, Timeline } from "./SimulatedTime.js"
import { Trace } from "./Trace.js"

/** Settings of one simulated executor process (its id is given by the harness). @since 0.1.0 @category models */
export type ProcessSettings = Partial<Omit<ExecutorSettings, "executorId">>

/** Enqueue `task` with `input` at `atMs` (simulated ms from the start). @since 0.1.0 @category models */
export interface EnqueueStep {
  readonly atMs: number
  readonly task: TaskLike<any, any>
  readonly input: unknown
  readonly options?: EnqueueOptions
}

/**
 * Cancel at `atMs`: the execution of enqueue number `enqueued`, or `pick` (modulo their count)
 * among the executions unfinished then, in creation order.
 *
 * @since 0.1.0
 * @category models
 */
export interface CancelStep {
  readonly atMs: number
  readonly target: { readonly enqueued: number } | { readonly pick: number }
}

/** A root execution at the end of a run. @since 0.1.0 @category models */
export interface RootOutcome {
  readonly index: number
  readonly task: TaskLike<any, any>
  readonly executionId: string | undefined
  readonly row: ExecutionRow | undefined
  /** The public view, with values decoded by the task's codecs. */
  readonly execution: TaskExecution.TaskExecution | undefined
}

/** What a run ended with, for the user's own properties. @since 0.1.0 @category models */
export interface Outcome {
  readonly roots: ReadonlyArray<RootOutcome>
  readonly rows: ReadonlyArray<ExecutionRow>
  /** How many times each execution's task function started (including runs that were cut off). */
  readonly runStarts: ReadonlyMap<string, number>
}

/** @since 0.1.0 @category models */
export interface Scenario {
  /** Fixes every random choice: fault decisions, cancel targets, and the fault plan when none is given. */
  readonly seed: number
  /** Every task (and child task) the workload uses: each executor process registers them all. */
  readonly tasks: ReadonlyArray<TaskLike<any, any>>
  readonly enqueues: ReadonlyArray<EnqueueStep>
  readonly cancels?: ReadonlyArray<CancelStep>
  /** The processes running at the start; later ones take these settings in turn. Default: two. */
  readonly processes?: ReadonlyArray<ProcessSettings>
  /** How long faults last (simulated ms); then the liveness phase. Default 60 000. */
  readonly faultPhaseMs?: number
  /** Default: `Faults.random(seed, faultPhaseMs)`. */
  readonly faults?: FaultPlan | "none"
  /** The user's own properties over the outcome: each returned string is a violation. */
  readonly properties?: (outcome: Outcome) => ReadonlyArray<string>
  /** Receives every trace line (for `--trace`). */
  readonly onTrace?: (line: string) => void
  /**
   * The storage backend every process shares, built in a scope that closes at the end of the run
   * (for example `SqliteFile.backend(filename)`). Default: a fresh `MemoryStorage` backend.
   */
  readonly backend?: Effect.Effect<StorageDriver.Backend, unknown, Scope.Scope>
}

/** @since 0.1.0 @category models */
export interface Report {
  readonly seed: number
  readonly ok: boolean
  readonly violations: ReadonlyArray<string>
  /** Hash of the whole trace: the same seed gives the same hash. */
  readonly traceHash: string
  /** How often each fault kind and transition happened. */
  readonly coverage: Readonly<Record<string, number>>
  readonly simulatedMs: number
  readonly steps: number
  readonly executions: number
  readonly completed: number
  /** The last trace lines, to explain a failure. */
  readonly recentTrace: ReadonlyArray<string>
  readonly outcome: Outcome | undefined
}

/** Process settings that suit simulated runs. @since 0.1.0 @category constants */
export const defaultProcessSettings: ProcessSettings = {
  pollIntervalMs: 1_000,
  leaseLeewayMs: 1_000,
  maxConcurrentTaskExecutions: 8,
  shutdownGracePeriodMs: 1_000
}

interface SimProcess extends FaultyStorage.ProcessHandle {
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
}

/** Counts run starts and ends of every task function a process runs. */
const instrument = (inner: RegistryService, process: SimProcess, checker: Checker): RegistryService => {
  const cache = new WeakMap<TaskDefinition, TaskDefinition>()
  const wrap = (definition: TaskDefinition): TaskDefinition => {
    const cached = cache.get(definition)
    if (cached !== undefined) return cached
    const wrapped: TaskDefinition = {
      ...definition,
      run: (info, input) =>
        Effect.suspend(() => {
          if (!process.alive) return Effect.interrupt
          const active = checker.runStarted(process.id, info)
          return Effect.onExit(definition.run(info, input), (exit) =>
            Effect.sync(() =>
              checker.runEnded(
                active,
                Exit.isSuccess(exit) ? "succeeded" : Cause.isInterruptedOnly(exit.cause) ? "interrupted" : "failed"
              )
            ))
        })
    }
    cache.set(definition, wrapped)
    return wrapped
  }
  return {
    register: inner.register,
    get: (taskId) => {
      const definition = inner.get(taskId)
      return definition === undefined ? undefined : wrap(definition)
    },
    taskIds: inner.taskIds
  }
}

/** One sequential id source shared by the client and every process: ids follow the run's order. */
const sequentialIds = (): Ids["Type"] =>
  Effect.runSync(Effect.scoped(Effect.map(Layer.build(IdsModule.layerSequential()), Context.get(Ids))))

type TimelineEvent = { readonly atMs: number; readonly order: number; readonly run: Effect.Effect<void> }

/**
 * Runs one scenario to its end and reports. Synchronous: the whole run is one deterministic loop
 * over simulated time, with no real timer.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (scenario: Scenario): Report => {
  const timeline = new Timeline()
  const coverage = new Coverage()
  const trace = new Trace(80, scenario.onTrace)
  const checker = new Checker(timeline, coverage, trace)
  const faultPhaseMs = scenario.faultPhaseMs ?? 60_000
  const plan = scenario.faults === "none" ? Faults.none : (scenario.faults ?? Faults.random(scenario.seed, faultPhaseMs))
  const prng = new Prng(scenario.seed)
  const faults = new FaultInjector(plan, prng, coverage)
  /** The memory backend is built here; another one (`scenario.backend`) at the start of the run. */
  let storage!: TaskStorage["Type"]
  if (scenario.backend === undefined) storage = StorageDriver.make(observe(MemoryStorage.makeBackend(), checker))
  const backendScope = Effect.runSync(Scope.make())
  const hub = SignalsModule.makeHub()
  const ids = sequentialIds()
  const definitions = scenario.tasks.map((t) => t.definition)
  const settingsList = scenario.processes !== undefined && scenario.processes.length > 0
    ? scenario.processes
    : [defaultProcessSettings, defaultProcessSettings]
  const control = new ProcessScheduler(timeline)
  const processes: Array<SimProcess> = []
  const rootIds: Array<string | undefined> = scenario.enqueues.map(() => undefined)
  let maxForwardOffsetMs = 0
  let eventsDone = false
  let lastProgressMs = 0
  let lastProgress = -1
  const userViolations: Array<string> = []
  /** Fibers the harness forked on its own; interrupted at the end with every process, so nothing outlives the run. */
  const controlFibers = new Set<Fiber.RuntimeFiber<void>>()
  let cleanup: Effect.Effect<void> = Scope.close(backendScope, Exit.void)
  const log = (line: string) => trace.record(`${timeline.nowMs} ${line}`)

  const program = Effect.gen(function*() {
    if (scenario.backend !== undefined) {
      storage = StorageDriver.make(observe(yield* Effect.orDie(Scope.extend(scenario.backend, backendScope)), checker))
    }
    const controlRuntime = yield* Effect.runtime<never>()
    const forkControl = (effect: Effect.Effect<void>): void => {
      const fiber = Runtime.runFork(controlRuntime, effect, { immediate: false })
      controlFibers.add(fiber)
      fiber.addObserver(() => controlFibers.delete(fiber))
    }
    cleanup = Effect.gen(function*() {
      for (const process of processes) yield* kill(process)
      yield* Fiber.interruptAll(controlFibers)
      yield* Scope.close(backendScope, Exit.void)
    })
    const clientRegistry = RegistryModule.make(definitions)
    const client = yield* DurableExecutor.makeClient(Effect.succeed(false)).pipe(
      Effect.provide(
        Context.make(TaskStorage, withOrigin(storage, "client")).pipe(
          Context.add(Signals, hub.service),
          Context.add(Registry, clientRegistry),
          Context.add(ExecutorConfig, { ...ExecutorConfigModule.defaults, ...settingsList[0] }),
          Context.add(Ids, ids)
        )
      )
    )

    const kill = (process: SimProcess): Effect.Effect<void> =>
      Effect.gen(function*() {
        if (process.killed) return
        process.killed = true
        process.alive = false
        process.scheduler.resume()
        log(`kill ${process.id}`)
        if (process.executor !== undefined) yield* process.executor.kill
        if (process.scope !== undefined) yield* Scope.close(process.scope, Exit.void)
      })

    /** Starts an executor process; `replacement` counts it as a fault (a new process joining mid-run). */
    const startProcess = (settings: ProcessSettings, replacement = true): Effect.Effect<SimProcess> =>
      Effect.gen(function*() {
        const index = processes.length
        const offset: ClockOffset = { offsetMs: 0 }
        const process: SimProcess = {
          index,
          id: `ex${index}`,
          scheduler: new ProcessScheduler(timeline),
          offset,
          clock: makeClock(timeline, offset),
          settings: { ...ExecutorConfigModule.defaults, ...settings, executorId: `ex${index}` },
          alive: true,
          killed: false,
          stopping: false,
          scope: undefined,
          executor: undefined,
          crash: (why) => {
            if (!process.alive) return
            process.alive = false
            log(`crash ${process.id}: ${why}`)
            forkControl(Effect.gen(function*() {
              yield* kill(process)
              const delay = faults.restartDelay()
              if (delay === undefined) return
              yield* Effect.sleep(delay)
              if (faults.enabled) yield* startProcess(nextSettings())
            }))
          }
        }
        processes.push(process)
        const scope = yield* Scope.make()
        process.scope = scope
        const context = Context.make(TaskStorage, FaultyStorage.make(withOrigin(storage, process.id), process, faults)).pipe(
          Context.add(Signals, FaultySignals.make(hub.service, process, faults)),
          Context.add(Registry, instrument(RegistryModule.make(definitions), process, checker)),
          Context.add(ExecutorConfig, process.settings),
          Context.add(Ids, ids),
          Context.add(Scope.Scope, scope)
        )
        process.executor = yield* Executor.make.pipe(
          Effect.orDie, // the scenario's settings are checked before the run
          Effect.provide(context),
          Effect.withClock(process.clock),
          Effect.withScheduler(process.scheduler)
        )
        log(`start ${process.id}`)
        if (replacement) coverage.hit("fault:process started")
        if (!process.alive) yield* kill(process)
        return process
      })
    let started = 0
    const nextSettings = (): ProcessSettings => settingsList[started++ % settingsList.length]!

    const alive = (): ReadonlyArray<SimProcess> => processes.filter((p) => p.alive && !p.stopping)
    const pickAlive = (n: number): SimProcess | undefined => {
      const list = alive()
      return list.length === 0 ? undefined : list[n % list.length]
    }
    const resume = (process: SimProcess): void => {
      if (!process.scheduler.paused) return
      if (checker.hasStaleRun(process.id, timeline.nowMs)) coverage.hit("fault:runner paused past its lease")
      log(`resume ${process.id}`)
      process.scheduler.resume()
    }

    const faultEvent = (event: Faults.FaultEvent): Effect.Effect<void> =>
      Effect.suspend(() => {
        if (!faults.enabled) return Effect.void
        switch (event._tag) {
          case "Start":
            return Effect.asVoid(startProcess(nextSettings()))
          case "Kill": {
            const process = pickAlive(event.process)
            if (process === undefined) return Effect.void
            coverage.hit("fault:process killed")
            process.alive = false
            forkControl(kill(process))
            return Effect.void
          }
          case "Shutdown": {
            const process = pickAlive(event.process)
            if (process === undefined || process.executor === undefined) return Effect.void
            coverage.hit("fault:graceful shutdown")
            process.stopping = true
            log(`shutdown ${process.id}`)
            const executor = process.executor
            forkControl(
              Effect.gen(function*() {
                yield* executor.shutdown
                log(`stopped ${process.id}`)
                process.alive = false
                if (process.scope !== undefined) yield* Scope.close(process.scope, Exit.void)
              }).pipe(Effect.withClock(process.clock), Effect.withScheduler(process.scheduler))
            )
            return Effect.void
          }
          case "Pause": {
            const process = pickAlive(event.process)
            if (process === undefined || process.scheduler.paused) return Effect.void
            coverage.hit("fault:process paused")
            log(`pause ${process.id} for ${event.forMs}`)
            process.scheduler.pause()
            forkControl(Effect.zipRight(Effect.sleep(event.forMs), Effect.sync(() => resume(process))))
            return Effect.void
          }
          case "ClockJump": {
            const process = pickAlive(event.process)
            if (process === undefined) return Effect.void
            coverage.hit(event.byMs >= 0 ? "fault:clock jump forward" : "fault:clock jump back")
            process.offset.offsetMs += event.byMs
            maxForwardOffsetMs = Math.max(maxForwardOffsetMs, process.offset.offsetMs)
            log(`clock ${process.id} ${event.byMs >= 0 ? "+" : ""}${event.byMs} (offset ${process.offset.offsetMs})`)
            return Effect.void
          }
        }
      })

    const enqueue = (step: EnqueueStep, index: number): Effect.Effect<void> =>
      client.enqueue(step.task, step.input, step.options).pipe(
        Effect.tap((executionId) => {
          rootIds[index] = executionId
          log(`enqueue #${index} ${step.task.id} -> ${executionId}`)
        }),
        Effect.catchAll((error) => Effect.sync(() => checker.violation(`enqueue #${index} (${step.task.id}) failed: ${String(error)}`))),
        Effect.asVoid
      )

    const cancel = (step: CancelStep): Effect.Effect<void> =>
      Effect.suspend(() => {
        let target: string | undefined
        if ("enqueued" in step.target) target = rootIds[step.target.enqueued]
        else {
          const open = [...checker.unfinished].sort()
          target = open.length === 0 ? undefined : open[step.target.pick % open.length]
        }
        if (target === undefined) return Effect.void
        coverage.hit("workload:user cancel")
        log(`cancel ${target}`)
        return client.cancel(target).pipe(
          Effect.catchAll((error) => Effect.sync(() => checker.violation(`cancel of ${target} failed: ${String(error)}`))),
          Effect.asVoid
        )
      })

    for (let i = 0; i < settingsList.length; i++) yield* startProcess(nextSettings(), false)

    const events: Array<TimelineEvent> = []
    scenario.enqueues.forEach((step, index) => events.push({ atMs: step.atMs, order: events.length, run: enqueue(step, index) }))
    for (const step of scenario.cancels ?? []) events.push({ atMs: step.atMs, order: events.length, run: cancel(step) })
    for (const event of plan.events) {
      if (event.atMs <= faultPhaseMs) events.push({ atMs: event.atMs, order: events.length, run: faultEvent(event) })
    }
    events.sort((a, b) => a.atMs - b.atMs || a.order - b.order)
    forkControl(Effect.gen(function*() {
      for (const event of events) {
        const waitMs = event.atMs - timeline.nowMs
        if (waitMs > 0) yield* Effect.sleep(waitMs)
        yield* event.run
      }
      eventsDone = true
    }))

    // Safety phase: faults on. Then the liveness phase: faults off, clocks right, paused processes resumed.
    yield* Effect.sleep(faultPhaseMs)
    faults.enabled = false
    log("faults off")
    for (const process of processes) {
      resume(process)
      process.offset.offsetMs = 0
    }
    const livenessProcess = yield* startProcess({ ...settingsList[0], maxConcurrentTaskExecutions: 10_000 }, false)
    const everyone = processes.map((p) => p.settings)
    const bound = {
      fromMs: timeline.nowMs,
      offsetAllowanceMs: maxForwardOffsetMs,
      pollIntervalMs: Math.max(...everyone.map((s) => s.pollIntervalMs)),
      leaseLeewayMs: Math.max(...everyone.map((s) => s.leaseLeewayMs)),
      slackMs: plan.slowCallMaxMs + 3_000
    }
    checker.startLiveness(bound)
    lastProgressMs = timeline.nowMs
    for (;;) {
      checker.checkLiveness(timeline.nowMs)
      if (checker.violations.length > 0) break
      if (eventsDone && checker.unfinished.size === 0) break
      if (checker.progress !== lastProgress) {
        lastProgress = checker.progress
        lastProgressMs = timeline.nowMs
      } else if (timeline.nowMs - lastProgressMs > 60_000 && eventsDone) {
        const open = [...checker.unfinished].map((id) => checker.rows.get(id)!)
        if (open.every((row) => row.status !== "ready" && row.status !== "running")) {
          checker.violation(
            `liveness: stuck: ${open.length} executions wait for children or finalize tasks, and nothing is ready or running ` +
              `(${open.slice(0, 3).map((r) => `${r.executionId} ${r.status}`).join(", ")})`
          )
          break
        }
      }
      yield* Effect.sleep(1_000)
    }
    log(`end (liveness process ${livenessProcess.id})`)

    const stored = yield* storage.list({ limit: Number.MAX_SAFE_INTEGER })
    checker.compareWith(stored)
    if (checker.violations.length === 0) {
      for (const id of checker.unfinished) checker.violation(`liveness: execution ${id} never finished`)
    }
    const roots: Array<RootOutcome> = []
    for (let index = 0; index < scenario.enqueues.length; index++) {
      const executionId = rootIds[index]
      const row = executionId === undefined ? undefined : checker.rows.get(executionId)
      roots.push({
        index,
        task: scenario.enqueues[index]!.task,
        executionId,
        row,
        execution: row === undefined ? undefined : yield* TaskExecution.fromRow(row, clientRegistry)
      })
    }
    const outcome: Outcome = { roots, rows: [...checker.rows.values()], runStarts: checker.runStarts }
    if (scenario.properties !== undefined) {
      try {
        userViolations.push(...scenario.properties(outcome).map((v) => `property: ${v}`))
      } catch (e) {
        userViolations.push(`property: threw ${e instanceof Error ? e.stack ?? e.message : String(e)}`)
      }
    }
    for (const row of [...checker.rows.values()].sort((a, b) => (a.executionId < b.executionId ? -1 : 1))) {
      trace.record(`final ${row.executionId} ${row.taskId} ${row.status} ${String(row.output)} ${row.error?.message ?? ""}`)
    }
    return outcome
  })

  const fiber = Runtime.runFork(
    Runtime.defaultRuntime,
    program.pipe(Effect.withClock(makeClock(timeline, { offsetMs: 0 })), Logger.withMinimumLogLevel(LogLevel.None)),
    { scheduler: control, immediate: false }
  )
  let exit: Exit.Exit<Outcome, unknown> | undefined
  fiber.addObserver((e) => {
    exit = e
  })
  const end = timeline.run(() => exit !== undefined, Number.MAX_SAFE_INTEGER)
  if (exit === undefined) checker.violation(`the simulation ${end} before it finished`)
  else if (Exit.isFailure(exit)) checker.violation(`the harness failed: ${Cause.pretty(exit.cause)}`)
  // Kill every process and stop the harness's own fibers: Effect keeps every running root fiber in
  // a global set, so a fiber left waiting would keep this whole run in memory.
  let cleaned = false
  const cleaner = Runtime.runFork(Runtime.defaultRuntime, cleanup.pipe(Logger.withMinimumLogLevel(LogLevel.None)), {
    scheduler: control,
    immediate: false
  })
  cleaner.addObserver(() => {
    cleaned = true
  })
  if (timeline.run(() => cleaned, Number.MAX_SAFE_INTEGER) !== "done") checker.violation("the processes could not be stopped")
  const violations = [...checker.violations, ...userViolations]
  let completed = 0
  for (const row of checker.rows.values()) if (row.status === "completed") completed++
  return {
    seed: scenario.seed,
    ok: violations.length === 0,
    violations,
    traceHash: trace.digest(),
    coverage: coverage.toRecord(),
    simulatedMs: timeline.nowMs,
    steps: timeline.steps,
    executions: checker.rows.size,
    completed,
    recentTrace: trace.recent(),
    outcome: exit !== undefined && Exit.isSuccess(exit) ? exit.value : undefined
  }
}

/** What {@link runSeeds} found. @since 0.1.0 @category models */
export interface SeedsResult {
  readonly seeds: number
  readonly failures: ReadonlyArray<Report>
  readonly coverage: CoverageSummary
}

/**
 * Runs the scenario of each seed `from`, `from + 1`, … (`count` of them) and collects the failing
 * reports and the coverage. Replay a failure with `run(scenarioOf(report.seed))`.
 *
 * @since 0.1.0
 * @category running
 */
export const runSeeds = (count: number, scenarioOf: (seed: number) => Scenario, from = 1): SeedsResult => {
  const failures: Array<Report> = []
  const coverage = new CoverageSummary()
  for (let seed = from; seed < from + count; seed++) {
    const report = run(scenarioOf(seed))
    coverage.add(report.coverage)
    if (!report.ok) failures.push(report)
  }
  return { seeds: count, failures, coverage }
}
