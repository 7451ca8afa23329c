import { validatePrices } from '../quota/cost.js';
import type { AnyPipeline } from '../builder.js';
import type { EngineBaseOptions, StageRunnerOptions } from '../engine-options.js';
import { jsonBytes, resolveRefs, storeValue } from '../claim-check.js';
import type { Engine, ReviewDecision, RunInfo, RunSummary } from '../engine.js';
import { createReviewToken, stageMetaOf, validateRunInput } from '../engine-support.js';
import { createPipelineSet, pinOf } from '../pipeline-versions.js';
import { startRunId } from '../run-id.js';
import { apiError, resultWithin } from '../api-errors.js';
import { StageError } from '../errors.js';
import { interpret } from '../interpreter/interpret.js';
import type { ApprovalOutcome, Effects, RunOutcome, TaskOutcome } from '../interpreter/types.js';
import { createFsBlobStore, createMemoryBlobStore } from '../ports/blob-store.js';
import { realClock, type Clock } from '../ports/clock.js';
import { silentLogger } from '../ports/logger.js';
import { invokeStage, type InvocationResult } from '../stage.js';
import { apply, createFileJournalStore, createMemoryJournalStore, foldJournal, type JournalEntry, type JournalState, type JournalStore } from './journal.js';
import { setMaxListeners } from 'node:events';
import { join } from 'node:path';
import { createLeaseKeeper } from './lease.js';
import { decisionEntryFor, pendingReviewOf, reviewEntryFor, runInfoFromJournal } from './run-info.js';
import { safeObserver, type RunEvent } from '../observer.js';
import { resolveOutcome } from '../run-output.js';
import { STEP_FUNCTIONS_LIMITS, stateLimitMessage, type EngineLimits } from '../engine-limits.js';
import { mapItemClaimCheckThresholds } from '../map-item-thresholds.js';

/** Step Functions' payload limit per state (`STEP_FUNCTIONS_LIMITS.maxStateBytes`). */
export const STEP_FUNCTIONS_PAYLOAD_LIMIT = STEP_FUNCTIONS_LIMITS.maxStateBytes;

/**
 * Options of {@link createLocalEngine}: the fields every engine takes (`EngineBaseOptions`:
 * pipelines, blobs, logger, observer) and those of an engine that runs stages in its own process
 * (`StageRunnerOptions`: model, limiter, prices, notifier, claimCheckThreshold), plus its own.
 * Without `dir`, `blobs` defaults to memory; with it, to a filesystem store under `dir/blobs`.
 */
export interface LocalEngineOptions extends EngineBaseOptions, StageRunnerOptions {
  /** Directory of the durable journal (and default blob store). Omit to keep everything in memory. */
  dir?: string;
  /** @default the wall clock */
  clock?: Clock;
  /**
   * Another engine's limits to enforce here (`STEP_FUNCTIONS_LIMITS`), so a pipeline that would
   * break there breaks here first.
   */
  limits?: EngineLimits;
  /** Shorthand for `limits: STEP_FUNCTIONS_LIMITS` (what the CLI's `--emulate stepfunctions` sets). */
  emulate?: 'stepfunctions';
}

/** The in-process engine: no services, a durable journal, resumable after `kill -9`. */
export interface LocalEngine extends Engine {
  /** Resumes every unfinished run found in the journal; returns their ids. */
  recover(): Promise<string[]>;
  /**
   * Simulates a process crash for tests: from now on nothing is journaled and no effect
   * completes, exactly as if the process had died.
   */
  crash(): void;
}

interface ActiveRun {
  state: JournalState;
  current: Set<string>;
  waiters: Map<string, (o: ApprovalOutcome) => void>;
  done: Promise<RunOutcome>;
}

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

/**
 * Creates the local engine.
 *
 * @example
 * ```ts
 * const engine = createLocalEngine({ pipelines: [pipeline], dir: '.baton' });
 * const { runId } = await engine.start('hello', { text: 'hi' });
 * const outcome = await engine.result(runId);
 * ```
 */
export function createLocalEngine(options: LocalEngineOptions): LocalEngine {
  validatePrices(options.prices, options.model?.modelId);
  const pipelines = createPipelineSet(options.pipelines);
  const journal: JournalStore = options.dir ? createFileJournalStore(options.dir) : createMemoryJournalStore();
  const blobs = options.blobs ?? (options.dir ? createFsBlobStore({ root: join(options.dir, 'blobs') }) : createMemoryBlobStore());
  const clock = options.clock ?? realClock;
  const logger = options.logger ?? silentLogger;
  const limits = options.limits ?? (options.emulate === 'stepfunctions' ? STEP_FUNCTIONS_LIMITS : undefined);
  /** The bytes of a value over `limits.maxStateBytes`, or undefined when within (or no limit). */
  const overStateLimit = (value: unknown): number | undefined => {
    if (limits?.maxStateBytes === undefined) return undefined;
    const bytes = jsonBytes(value);
    return bytes > limits.maxStateBytes ? bytes : undefined;
  };
  /** A task's result, failed `States.DataLimitExceeded` when its output is over the state limit (its JSON is measured once: it may be megabytes). */
  const withinStateLimit = (r: InvocationResult, stepPath: string): InvocationResult => {
    const over = r.ok ? overStateLimit(r.output) : undefined;
    if (over === undefined) return r;
    const message = stateLimitMessage(limits!, `output of ${stepPath}`, over, 'lower the claim-check threshold');
    return { ok: false, error: { code: 'States.DataLimitExceeded', message, retryable: false }, metrics: r.metrics };
  };
  const active = new Map<string, ActiveRun>();
  // who drives which run, for `status` in another process (lease.ts); in memory there is no other process
  const leases = options.dir ? createLeaseKeeper(options.dir) : undefined;
  const shutdown = new AbortController();
  // every in-flight stage and approval timer listens on it: a wide map is not a listener leak
  setMaxListeners(0, shutdown.signal);
  let dead = false;
  const observe = safeObserver([options.observer], logger);
  const notify = (event: RunEvent): void => {
    if (options.observer) void observe(event);
  };

  const append = (runId: string, run: ActiveRun | undefined, entry: JournalEntry): void => {
    if (dead) return;
    journal.append(runId, entry);
    if (run) apply(run.state, entry);
    const event = entry.t === 'redrive' ? redrivenEvent(runId, journal.read(runId), entry.at) : eventOf(runId, entry);
    if (event) notify(event);
  };

  const launch = (runId: string): ActiveRun => {
    const existing = active.get(runId);
    if (existing) return existing;
    const state = foldJournal(journal.read(runId));
    if (!state.start) throw apiError.runNotFound(runId);
    const pipeline = pipelines.forRun(runId, state.start.pipeline, state.pin);
    const run: ActiveRun = { state, current: new Set(), waiters: new Map(), done: Promise.resolve(undefined as never) };
    active.set(runId, run);
    leases?.hold(runId);
    const effects = createEffects(runId, pipeline, run);
    // under a state limit, the items of a map whose aggregate could pass it claim-check at a lower threshold, as on Step Functions
    const itemClaimCheckThresholds =
      limits?.maxStateBytes === undefined
        ? undefined
        : mapItemClaimCheckThresholds(pipeline, limits, options.claimCheckThreshold === undefined ? {} : { claimCheckThreshold: options.claimCheckThreshold });
    const interpretOptions = { runId, stages: stageMetaOf(pipeline), ...(itemClaimCheckThresholds ? { itemClaimCheckThresholds } : {}) };
    run.done = interpret(pipeline.ir, state.start.input, effects, interpretOptions).then((outcome) => {
      if (dead) return never<RunOutcome>();
      const at = new Date(clock.now()).toISOString();
      append(
        runId,
        run,
        outcome.status === 'succeeded' ? { t: 'end', ok: true, output: outcome.output, at } : { t: 'end', ok: false, error: outcome.error, at },
      );
      active.delete(runId);
      leases?.release(runId);
      logger.info('run ended', { runId, status: outcome.status });
      return outcome;
    });
    return run;
  };

  const createEffects = (runId: string, pipeline: AnyPipeline, run: ActiveRun): Effects => ({
    async completed(path, hash) {
      const hit = run.state.completed.get(path);
      return hit && hit.hash === hash ? { output: hit.output } : undefined;
    },
    async runTask(req, hash): Promise<TaskOutcome> {
      const recorded = run.state.failedAttempts.get(`${req.stepPath}#${req.attempt}`);
      if (recorded) return { ok: false, error: recorded };
      if (dead) return never();
      const startedAt = new Date(clock.now()).toISOString();
      append(runId, run, { t: 'attempt', path: req.stepPath, stage: req.stage, attempt: req.attempt, at: startedAt });
      const stage = pipeline.stages.get(req.stage)!;
      const result = await invokeStage(stage, req.input, {
        blobs,
        runId,
        stepPath: req.stepPath,
        attempt: req.attempt,
        logger,
        clock,
        signal: shutdown.signal,
        ...(options.model ? { model: options.model } : {}),
        ...(options.limiter ? { limiter: options.limiter } : {}),
        ...(options.prices ? { prices: options.prices } : {}),
        ...(req.timeoutMs === undefined ? {} : { timeoutMs: req.timeoutMs }),
        ...(options.claimCheckThreshold === undefined ? {} : { claimCheckThreshold: options.claimCheckThreshold }),
        // a map item's lowered threshold (see mapItemClaimCheckThresholds): large fields move out, the output's keys stay
        ...(req.claimCheckThreshold === undefined ? {} : { claimCheckThreshold: req.claimCheckThreshold, claimCheck: { keepKeys: true } }),
        mapResult: (r) => withinStateLimit(r, req.stepPath),
        // attempt-finished follows the journaled outcome, as every other event of this engine does
        report: { observe: notify, startedAt, deferFinished: true },
      });
      if (dead) return never();
      const base = {
        t: 'task' as const,
        path: req.stepPath,
        stage: req.stage,
        stageVersion: stage.version,
        hash,
        attempt: req.attempt,
        startedAt,
        at: result.finishedAt,
        metrics: result.metrics,
      };
      append(runId, run, result.ok ? { ...base, ok: true, output: result.output } : { ...base, ok: false, error: result.error });
      if (result.finished) notify(result.finished);
      return result.ok ? { ok: true, output: result.output } : { ok: false, error: result.error };
    },
    async sleep(key, ms) {
      let due = run.state.timers.get(key);
      if (due === undefined) {
        due = clock.now() + ms;
        append(runId, run, { t: 'timer', key, dueAt: due });
      }
      if (dead) return never();
      await clock.sleep(Math.max(0, due - clock.now()), shutdown.signal).catch(() => never());
      if (dead) return never();
    },
    async approval(req) {
      const decided = run.state.decisions.get(req.stepPath);
      if (decided) return outcomeOf(decided);
      let review = run.state.reviews.get(req.stepPath);
      // opened before a crash and never delivered: the token died with that process (only its hash
      // is journaled), so a new one replaces it, same deadline, and the notice goes out again
      const undelivered = review?.noticeRecorded && options.notifier && !run.state.noticed.get(req.stepPath)?.has(review.tokenHash);
      if (!review || undelivered) {
        const { token, hash } = createReviewToken();
        review = review
          ? { ...review, tokenHash: hash }
          : { ...reviewEntryFor(req, hash, clock.now()), ...(options.notifier ? { noticeRecorded: true as const } : {}) };
        append(runId, run, review);
        if (dead) return never();
        if (options.notifier) {
          await options.notifier({ ...pendingReviewOf(runId, review), token });
          if (dead) return never();
          append(runId, run, { t: 'noticed', path: req.stepPath, tokenHash: hash, at: new Date(clock.now()).toISOString() });
        }
        // a notifier may decide at once (an auto-approving CLI, a test): that decision is journaled already
        const early = run.state.decisions.get(req.stepPath);
        if (early) return outcomeOf(early);
      }
      const expiresAt = Date.parse(review.expiresAt);
      const timer = new AbortController();
      return new Promise<ApprovalOutcome>((resolve) => {
        run.waiters.set(req.stepPath, (o) => {
          timer.abort();
          run.waiters.delete(req.stepPath);
          resolve(o);
        });
        void clock
          .sleep(Math.max(0, expiresAt - clock.now()), AbortSignal.any([timer.signal, shutdown.signal]))
          .then(() => {
            if (dead || run.state.decisions.has(req.stepPath)) return;
            const entry: JournalEntry = { t: 'decision', path: req.stepPath, gate: req.gate, decision: 'timeout', at: new Date(clock.now()).toISOString() };
            append(runId, run, entry);
            run.waiters.get(req.stepPath)?.({ decision: 'timeout' });
          })
          .catch(() => undefined);
      });
    },
    resolve: (value) => resolveRefs(value, blobs),
    async store(value, stepPath) {
      // Step Functions carries a Map's or Parallel's result in the state itself: over the limit it fails there
      const bytes = overStateLimit(value);
      if (bytes !== undefined) {
        throw new StageError(
          'States.DataLimitExceeded',
          stateLimitMessage(limits!, `result of ${stepPath}`, bytes, 'keep item outputs small or discard the result'),
          { retryable: false },
        );
      }
      return storeValue(value, blobs, `claims/${runId}`);
    },
    now: () => clock.now(),
    emit(event) {
      const at = new Date(clock.now()).toISOString();
      if (event.type === 'step-started') {
        run.current.add(event.stepPath);
        notify({ type: 'step-started', runId, stepPath: event.stepPath, kind: event.kind, at });
      } else if (event.type === 'step-succeeded' || event.type === 'step-failed') {
        run.current.delete(event.stepPath);
        const status = event.type === 'step-succeeded' ? ('succeeded' as const) : ('failed' as const);
        notify({
          type: 'step-finished',
          runId,
          stepPath: event.stepPath,
          kind: event.kind,
          status,
          at,
          ...(event.type === 'step-failed' ? { error: event.error } : {}),
        });
      } else if (event.type === 'retry-scheduled') {
        const { stepPath, attempt, code, delayMs, maxDelayMs } = event;
        append(runId, run, { t: 'retry', path: stepPath, attempt, code, delayMs, maxDelayMs, at });
      }
    },
  });

  const decide = async (runId: string, gate: string, decision: ReviewDecision, verdict: 'approved' | 'rejected'): Promise<void> => {
    const run = active.get(runId);
    const state = run?.state ?? foldJournal(journal.read(runId));
    // a run is decided only where it can go on: with the version it started on (an engine that lacks
    // the pipeline altogether, a bare approver, records the decision for one that has it)
    const ir = state.start && pipelines.has(state.start.pipeline) ? pipelines.forRun(runId, state.start.pipeline, state.pin).ir : undefined;
    const entry = decisionEntryFor(runId, state, gate, decision, verdict, new Date(clock.now()).toISOString(), ir);
    append(runId, run, entry);
    if (run) run.waiters.get(entry.path)?.(outcomeOf(entry));
    // the decision is durable either way: an engine that lacks the pipeline (a bare approver)
    // leaves the run to the next `recover()` of one that has it instead of failing after the fact
    else if (ir) launch(runId);
  };

  const info = (runId: string): RunInfo => {
    const run = active.get(runId);
    const s = run?.state ?? foldJournal(journal.read(runId));
    if (!s.start) throw apiError.runNotFound(runId);
    return runInfoFromJournal(
      runId,
      { ...s, start: s.start },
      { engine: 'local', running: [...s.running.values()], currentSteps: run ? [...run.current] : [] },
    );
  };

  return {
    name: 'local',
    async start(pipelineOrName, input, startOptions = {}) {
      const pipeline = pipelines.forStart(pipelineOrName, startOptions.version);
      if (typeof pipelineOrName !== 'string' && !pipelines.findForRun(pipeline.name, pinOf(pipeline))) pipelines.add(pipeline);
      const runId = startRunId(startOptions.runId, pipeline.name);
      if (journal.read(runId).length > 0) return { runId };
      const at = new Date(clock.now()).toISOString();
      const checked = validateRunInput(pipeline, input);
      append(runId, undefined, { t: 'start', runId, pipeline: pipeline.name, pin: pinOf(pipeline), input: checked.ok ? checked.input : input, at });
      if (!checked.ok) append(runId, undefined, { t: 'end', ok: false, error: checked.error, at });
      else launch(runId);
      return { runId };
    },
    async result(runId, resultOptions = {}) {
      const state = active.get(runId)?.state ?? foldJournal(journal.read(runId));
      if (state.end && !active.has(runId)) return resolveOutcome(endOutcome(state.end), blobs);
      const done = launch(runId).done.then((o) => resolveOutcome(o, blobs));
      return resultWithin(runId, done, resultOptions.timeoutMs);
    },
    async status(runId) {
      return info(runId);
    },
    approve: (runId, gate, decision) => decide(runId, gate, decision, 'approved'),
    reject: (runId, gate, decision) => decide(runId, gate, decision, 'rejected'),
    async redrive(runId) {
      const state = active.get(runId)?.state ?? foldJournal(journal.read(runId));
      if (!state.start) throw apiError.runNotFound(runId);
      if (active.has(runId) || !state.end) throw apiError.runNotRedrivable(runId, 'in-progress');
      if (state.end.ok) throw apiError.runNotRedrivable(runId, 'succeeded');
      // the run's own version, with the stage versions loaded now: outputs of changed stages run again
      const pipeline = pipelines.forRun(runId, state.start.pipeline, state.pin, { allowStageChanges: true });
      if (!validateRunInput(pipeline, state.start.input).ok) throw apiError.runNotRedrivable(runId, 'invalid-input');
      append(runId, undefined, { t: 'redrive', at: new Date(clock.now()).toISOString(), ...(state.pin ? { stages: pinOf(pipeline).stages } : {}) });
      launch(runId);
    },
    async list(filter = {}) {
      const rows: RunSummary[] = [];
      for (const runId of journal.runIds()) {
        const i = info(runId);
        if (filter.status && i.status !== filter.status) continue;
        if (filter.pipeline && i.pipeline !== filter.pipeline) continue;
        rows.push({ runId, pipeline: i.pipeline, engine: i.engine, status: i.status, startedAt: i.startedAt, updatedAt: i.updatedAt });
      }
      return rows.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
    },
    async recover() {
      const resumed: string[] = [];
      for (const runId of journal.runIds()) {
        if (active.has(runId)) continue;
        const s = foldJournal(journal.read(runId));
        if (s.start && !s.end && pipelines.findForRun(s.start.pipeline, s.pin)) {
          launch(runId);
          resumed.push(runId);
        }
      }
      return resumed;
    },
    crash() {
      dead = true;
      leases?.abandon();
      shutdown.abort(new StageError('StageFailed', 'engine crashed (simulated)'));
      active.clear();
    },
    /** `await using` closes the engine (same as {@link Engine.close}). */
    [Symbol.asyncDispose]() {
      return this.close();
    },
    async close() {
      leases?.abandon();
      shutdown.abort(new StageError('StageFailed', 'engine closed'));
      dead = true;
      active.clear();
    },
  };
}

function outcomeOf(d: Extract<JournalEntry, { t: 'decision' }>): ApprovalOutcome {
  const o: ApprovalOutcome = { decision: d.decision, decidedAt: d.at };
  if (d.reviewer !== undefined) o.reviewer = d.reviewer;
  if (d.comment !== undefined) o.comment = d.comment;
  if (d.sections !== undefined) o.sections = d.sections;
  return o;
}

function endOutcome(end: Extract<JournalEntry, { t: 'end' }>): RunOutcome {
  return end.ok ? { status: 'succeeded', output: end.output } : { status: 'failed', error: end.error! };
}

/** The `run-redriven` event of the redrive just journaled: its count is the journal's redrives. */
function redrivenEvent(runId: string, entries: JournalEntry[], at: string): RunEvent {
  return { type: 'run-redriven', runId, redrive: entries.filter((e) => e.t === 'redrive').length, at };
}

function eventOf(runId: string, e: JournalEntry): RunEvent | undefined {
  switch (e.t) {
    case 'start':
      return { type: 'run-started', runId, pipeline: e.pipeline, engine: 'local', input: e.input, at: e.at };
    case 'retry':
      return { type: 'retry-scheduled', runId, stepPath: e.path, attempt: e.attempt, code: e.code, delayMs: e.delayMs, at: e.at ?? new Date().toISOString() };
    case 'review':
      return {
        type: 'review-opened',
        runId,
        gate: e.gate,
        stepPath: e.path,
        payload: e.payload,
        tokenHash: e.tokenHash,
        expiresAt: e.expiresAt,
        at: e.createdAt,
        ...(e.reviewer === undefined ? {} : { reviewer: e.reviewer }),
        ...(e.sections === undefined ? {} : { sections: e.sections }),
      };
    case 'decision':
      return {
        type: 'review-decided',
        runId,
        gate: e.gate,
        stepPath: e.path,
        decision: e.decision,
        at: e.at,
        ...(e.reviewer === undefined ? {} : { reviewer: e.reviewer }),
        ...(e.comment === undefined ? {} : { comment: e.comment }),
        ...(e.sections === undefined ? {} : { sections: e.sections }),
      };
    case 'end':
      return e.ok
        ? { type: 'run-finished', runId, status: 'succeeded', output: e.output, at: e.at }
        : { type: 'run-finished', runId, status: 'failed', error: e.error!, at: e.at };
    default:
      return undefined;
  }
}
