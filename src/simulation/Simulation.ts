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
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import * as Scope from "effect/Scope"
import * as DurableExecutor from "../DurableExecutor.js"
import { ExecutorConfig } from "../ExecutorConfig.js"
import * as ExecutorConfigModule from "../ExecutorConfig.js"
import { Ids } from "../Ids.js"
import * as MemoryStorage from "../MemoryStorage.js"
import * as RegistryModule from "../Registry.js"
import { Registry } from "../Registry.js"
import * as SignalsModule from "../Signals.js"
import { Signals } from "../Signals.js"
import * as StorageDriver from "../StorageDriver.js"
import * as TaskExecution from "../TaskExecution.js"
import { TaskStorage } from "../TaskStorage.js"
import { retryOptionsOf } from "./AttemptInvariants.js"
import { Coverage, CoverageSummary } from "./Coverage.js"
import * as Faults from "./Faults.js"
import { FaultInjector } from "./Faults.js"
import * as FaultySignals from "./FaultySignals.js"
import { Checker } from "./Invariants.js"
import { losingReplies, retried } from "./KeyedEnqueue.js"
import { observe, withOrigin } from "./Observe.js"
import * as PlainTime from "./PlainTime.js"
import { Prng } from "./Prng.js"
import { ProcessPool } from "./Processes.js"
import { redrive } from "./Redrives.js"
import { CLEANUP_LIMIT_MS, LIVENESS_LIMIT_MS, MAX_STEPS, MONITOR_EVERY_MS, sequentialIds } from "./RunSettings.js"
import {
  type CancelStep,
  defaultProcessSettings,
  type EnqueueStep,
  type Outcome,
  type Report,
  type RootOutcome,
  type Scenario,
  type WaitStep
} from "./Scenario.js"
import * as SimSchedules from "./SimSchedules.js"
import { makeClock, ProcessScheduler, Timeline } from "./SimulatedTime.js"
import { Trace } from "./Trace.js"
import { WaitTracker } from "./Waits.js"
import * as Wakeups from "./Wakeups.js"
import { Watchdog } from "./Watchdog.js"
export * from "./Scenario.js"

type TimelineEvent = { readonly atMs: number; readonly order: number; readonly run: Effect.Effect<void> }

/**
 * Runs one scenario to its end and reports. Synchronous: the whole run is one deterministic loop
 * over simulated time, with no real timer. Every step is bounded in simulated time: a storage call
 * or a run that never ends is reported as a liveness violation.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (scenario: Scenario): Report => {
  const timeline = new Timeline()
  return PlainTime.withTimeline(timeline, () => runOn(timeline, scenario))
}

const runOn = (timeline: Timeline, scenario: Scenario): Report => {
  const coverage = new Coverage()
  const trace = new Trace(80, scenario.onTrace)
  const checker = new Checker(timeline, coverage, trace)
  const faultPhaseMs = scenario.faultPhaseMs ?? 60_000
  const plan = scenario.faults === "none"
    ? Faults.none
    : (scenario.faults ?? Faults.random(scenario.seed, faultPhaseMs))
  const prng = new Prng(scenario.seed)
  const faults = new FaultInjector(plan, prng, coverage)
  /** The memory backend is built here; another one (`scenario.backend`) at the start of the run. */
  let storage!: TaskStorage["Type"]
  if (scenario.backend === undefined) storage = StorageDriver.make(observe(MemoryStorage.makeBackend(), checker))
  const schedules = SimSchedules.storageFor(scenario.schedules, storage)
  const backendScope = Effect.runSync(Scope.make())
  const hub = SignalsModule.makeHub()
  const ids = sequentialIds()
  const definitions = scenario.tasks.map((t) => t.definition)
  checker.retryOf = retryOptionsOf(definitions)
  checker.runs.slowCallMaxMs = plan.slowCallMaxMs
  const settingsList = scenario.processes !== undefined && scenario.processes.length > 0
    ? scenario.processes
    : [defaultProcessSettings, defaultProcessSettings]
  const control = new ProcessScheduler(timeline)
  const watchdog = new Watchdog(timeline, plan.slowCallMaxMs + 60_000, (message) => checker.violation(message))
  const waits = new WaitTracker(checker)
  const rootIds: Array<string | undefined> = scenario.enqueues.map(() => undefined)
  let eventsDone = false
  let lastProgressMs = 0
  let lastProgress = -1
  const userViolations: Array<string> = []
  /** Fibers the harness forked on its own; interrupted at the end with every process, so nothing outlives the run. */
  const controlFibers = new Set<Fiber.RuntimeFiber<void>>()
  let cleanup: Effect.Effect<void> = Scope.close(backendScope, Exit.void)
  const log = (line: string) => trace.record(`${timeline.nowMs} ${line}`)
  let forkControl: (effect: Effect.Effect<void>) => void = () => {}
  const pool = new ProcessPool({
    timeline,
    coverage,
    checker,
    faults,
    storage: () => storage,
    hub,
    ids,
    definitions,
    watchdog,
    settingsList,
    log,
    forkControl: (effect) => forkControl(effect),
    schedules: () => schedules
  })
  checker.runs.health = (id) => pool.health(id)

  const program = Effect.gen(function*() {
    if (scenario.backend !== undefined) {
      const backend = yield* Effect.orDie(Scope.extend(scenario.backend, backendScope))
      storage = StorageDriver.make(observe(backend, checker, true))
    }
    const controlRuntime = yield* Effect.runtime<never>()
    forkControl = (effect: Effect.Effect<void>): void => {
      const fiber = Runtime.runFork(controlRuntime, effect, { immediate: false })
      controlFibers.add(fiber)
      fiber.addObserver(() => controlFibers.delete(fiber))
    }
    cleanup = Effect.gen(function*() {
      for (const process of pool.processes) yield* pool.kill(process)
      yield* Fiber.interruptAll(controlFibers)
      yield* Scope.close(backendScope, Exit.void)
    })
    const clientRegistry = RegistryModule.make(definitions)
    const clientOf = (origin: string, signals: Signals["Type"], wrap = (s: TaskStorage["Type"]) => s) =>
      DurableExecutor.makeClient(Effect.succeed(false)).pipe(
        Effect.provide(SimSchedules.provide(
          Context.make(TaskStorage, wrap(watchdog.track(withOrigin(storage, origin), origin))).pipe(
            Context.add(Signals, signals),
            Context.add(Registry, clientRegistry),
            Context.add(ExecutorConfig, { ...ExecutorConfigModule.defaults, ...settingsList[0] }),
            Context.add(Ids, ids)
          ),
          schedules
        ))
      )
    const client = yield* clientOf("client", hub.service)
    // Waits go through a client of their own, whose wake-ups are lost or duplicated like a process's.
    const waiter = yield* clientOf("waiter", FaultySignals.make(hub.service, { alive: true }, faults))
    const cron = SimSchedules.harness({ steps: scenario.schedules, schedules, client, checker, log })

    // Keyed enqueues lose replies and are retried with the same key (KeyedEnqueue.ts).
    const keyedClient = yield* clientOf("client", hub.service, (s) => losingReplies(s, faults, coverage))
    const enqueue = (step: EnqueueStep, index: number): Effect.Effect<void> =>
      (step.options?.idempotencyKey === undefined
        ? client.enqueue(step.task, step.input, step.options)
        : retried(keyedClient.enqueue(step.task, step.input, step.options))).pipe(
          Effect.tap((executionId) => {
            rootIds[index] = executionId
            log(`enqueue #${index} ${step.task.id} -> ${executionId}`)
          }),
          Effect.catchAll((error) =>
            Effect.sync(() => checker.violation(`enqueue #${index} (${step.task.id}) failed: ${String(error)}`))
          ),
          Effect.asVoid
        )

    const targetOf = (target: CancelStep["target"]): string | undefined => {
      if ("enqueued" in target) return rootIds[target.enqueued]
      const open = [...checker.unfinished].sort()
      return open.length === 0 ? undefined : open[target.pick % open.length]
    }

    const cancel = (step: CancelStep): Effect.Effect<void> =>
      Effect.suspend(() => {
        const target = targetOf(step.target)
        if (target === undefined) return Effect.void
        coverage.hit("workload:user cancel")
        log(`cancel ${target}`)
        return client.cancel(target).pipe(
          Effect.catchAll((error) =>
            Effect.sync(() => checker.violation(`cancel of ${target} failed: ${String(error)}`))
          ),
          Effect.asVoid
        )
      })

    const wait = (step: WaitStep): Effect.Effect<void> =>
      Effect.sync(() => {
        const target = targetOf(step.target)
        if (target === undefined) return
        const pollMs = step.pollIntervalMs ?? settingsList[0]!.pollIntervalMs ??
          ExecutorConfigModule.defaults.pollIntervalMs
        coverage.hit("workload:wait")
        log(`wait ${target} every ${pollMs}`)
        forkControl(waits.follow(target, pollMs, waiter.wait(target, { pollIntervalMs: pollMs })))
      })

    for (let i = 0; i < settingsList.length; i++) yield* pool.start(pool.nextSettings(), false)

    const events: Array<TimelineEvent> = []
    scenario.enqueues.forEach((step, index) =>
      events.push({ atMs: step.atMs, order: events.length, run: enqueue(step, index) })
    )
    for (const step of scenario.cancels ?? []) events.push({ atMs: step.atMs, order: events.length, run: cancel(step) })
    for (const step of scenario.waits ?? []) events.push({ atMs: step.atMs, order: events.length, run: wait(step) })
    for (const step of scenario.redrives ?? []) {
      events.push({ atMs: step.atMs, order: events.length, run: redrive(step, { client, checker, coverage, log }) })
    }
    for (const step of cron.events) events.push({ ...step, order: events.length })
    const waker = yield* clientOf("client", hub.service, (s) => Wakeups.losingReplies(s, faults, coverage))
    const wakeups = Wakeups.harness({ steps: scenario.wakeups ?? [], client: waker, checker, coverage, log })
    for (const step of wakeups) events.push({ ...step, order: events.length })
    for (const event of plan.events) {
      if (event.atMs <= faultPhaseMs) {
        events.push({ atMs: event.atMs, order: events.length, run: pool.faultEvent(event) })
      }
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
    // The bounds on runners, waits and storage steps, checked as time goes.
    const monitor = () => {
      checker.runs.checkOverdue(timeline.nowMs)
      waits.checkOverdue(timeline.nowMs)
      watchdog.check(timeline.nowMs)
    }
    forkControl(Effect.forever(Effect.zipRight(Effect.sleep(MONITOR_EVERY_MS), Effect.sync(monitor))))

    // Safety phase: faults on. Then the liveness phase: faults off, clocks right, paused processes resumed.
    yield* Effect.sleep(faultPhaseMs)
    faults.enabled = false
    log("faults off")
    yield* cron.pause
    for (const process of pool.processes) {
      pool.resume(process)
      process.offset.offsetMs = 0
    }
    const livenessProcess = yield* pool.start({ ...settingsList[0], maxConcurrentTaskExecutions: 10_000 }, false)
    const everyone = pool.processes.map((p) => p.settings)
    checker.startLiveness({
      fromMs: timeline.nowMs,
      offsetAllowanceMs: pool.maxForwardOffsetMs,
      pollIntervalMs: Math.max(...everyone.map((s) => s.pollIntervalMs)),
      leaseLeewayMs: Math.max(...everyone.map((s) => s.leaseLeewayMs)),
      slackMs: plan.slowCallMaxMs + 3_000
    })
    lastProgressMs = timeline.nowMs
    for (;;) {
      checker.checkLiveness(timeline.nowMs)
      monitor()
      if (checker.violations.length > 0 || watchdog.hung) break
      if (eventsDone && checker.unfinished.size === 0 && !waits.pending) break
      if (checker.progress !== lastProgress) {
        lastProgress = checker.progress
        lastProgressMs = timeline.nowMs
      } else if (timeline.nowMs - lastProgressMs > 60_000 && eventsDone) {
        const open = [...checker.unfinished].map((id) => checker.rows.get(id)!)
        if (open.every((row) => row.status !== "ready" && row.status !== "running")) {
          checker.violation(
            `liveness: stuck: ${open.length} executions wait for children or finalize tasks, and nothing is ` +
              `ready or running ` +
              `(${open.slice(0, 3).map((r) => `${r.executionId} ${r.status}`).join(", ")})`
          )
          break
        }
      }
      yield* Effect.sleep(1_000)
    }
    log(`end (liveness process ${livenessProcess.id})`)

    const stored = yield* Effect.timeoutOption(storage.list({ limit: Number.MAX_SAFE_INTEGER }), 30_000)
    if (Option.isNone(stored)) {
      checker.violation("liveness: the final read of storage did not return within 30 s of simulated time")
    } else checker.compareWith(stored.value)
    yield* cron.check(checker.rows.values())
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
      trace.record(
        `final ${row.executionId} ${row.taskId} ${row.status} ${String(row.output)} ${row.error?.message ?? ""}`
      )
    }
    return outcome
  })

  const quiet = <A, E>(effect: Effect.Effect<A, E>) => effect.pipe(Logger.withMinimumLogLevel(LogLevel.None))
  const main = quiet(program.pipe(Effect.withClock(makeClock(timeline, { offsetMs: 0 }))))
  const fiber = Runtime.runFork(Runtime.defaultRuntime, main, { scheduler: control, immediate: false })
  let exit: Exit.Exit<Outcome, unknown> | undefined
  fiber.addObserver((e) => {
    exit = e
  })
  const end = timeline.run(() => exit !== undefined, faultPhaseMs + LIVENESS_LIMIT_MS, MAX_STEPS)
  if (exit === undefined) {
    checker.violation(
      `liveness: the run did not end (${end}: ${timeline.nowMs} ms of simulated time, ${timeline.steps} steps)` +
        (watchdog.hung ? "" : "; no storage step hangs, so a loop never ends")
    )
  } else if (Exit.isFailure(exit)) checker.violation(`the harness failed: ${Cause.pretty(exit.cause)}`)
  // Kill every process and stop the harness's own fibers: Effect keeps every running root fiber in
  // a global set, so a fiber left waiting would keep this whole run in memory.
  let cleaned = false
  const cleaner = Runtime.runFork(Runtime.defaultRuntime, quiet(cleanup), { scheduler: control, immediate: false })
  cleaner.addObserver(() => {
    cleaned = true
  })
  if (timeline.run(() => cleaned, timeline.nowMs + CLEANUP_LIMIT_MS, timeline.steps + MAX_STEPS) !== "done") {
    checker.violation(
      `liveness: the processes could not be stopped within ${CLEANUP_LIMIT_MS} ms of simulated time: a step hangs`
    )
  } else {
    // Let the waits' pollers see that their watches are gone, and end.
    timeline.run(() => false, timeline.nowMs + 10_000, timeline.steps + MAX_STEPS)
  }
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
