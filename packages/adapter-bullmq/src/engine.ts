import { Queue } from 'bullmq';
import {
  createFsBlobStore,
  resolveOutcome,
  silentLogger,
  type Engine,
  type ReviewDecision,
  type ReviewNotice,
  type RunEvent,
  type RunOutcome,
  type RunSummary,
} from '@baton/core';
import { type EngineBaseOptions, type StageRunnerOptions } from '@baton/core/engine';
import {
  apiError,
  createPipelineSet,
  pinOf,
  foldJournal,
  startRunId,
  safeObserver,
  validateRunInput,
  validatePrices,
  decisionEntryFor,
  type JournalEntry,
} from '@baton/core/engine';
import { wakeRun } from './flush.js';
import { QUEUES, endedChannel, reviewsChannel } from './keys.js';
import { DEFAULT_PREFIX, bullmqConnectionOf, newRedis, redisOptionsOf, type BullmqConnectionOptions } from './options.js';
import { runInfoOf } from './status.js';
import { createRunStore, generationOf } from './store.js';
import { readModelCalls, withModelCalls } from './model-calls.js';
import { watchStalledTasks, type RecoveringSteps } from './stalled.js';
import { createBullmqWorker, type BullmqWorker, type BullmqWorkerTuning } from './worker.js';

/**
 * Options of {@link createBullmqEngine}: Redis, core's engine fields (`EngineBaseOptions`:
 * pipelines, blobs, logger, observer; blobs shared with the workers, by default a filesystem store
 * under `.baton/blobs`) and the stage fields of its in-process worker (`StageRunnerOptions`).
 * `notifier` receives review tokens whichever worker process opened the gate; `observer` run
 * starts and decisions made here and the in-process worker's events.
 */
export interface BullmqEngineOptions extends BullmqConnectionOptions, EngineBaseOptions, StageRunnerOptions {
  /**
   * Run a worker in this process (`false` when separate `baton worker` processes do the work).
   * @default true
   */
  worker?: boolean | BullmqWorkerTuning;
  /**
   * Called when BullMQ takes steps back from a worker that stopped (killed, frozen, cut off) so
   * another worker runs them again: the CLI shows "recovering N steps from a stopped worker".
   */
  onRecovering?: (steps: RecoveringSteps) => void;
}

/** The BullMQ engine: a client of the run journals and queues, optionally with a worker. */
export interface BullmqEngine extends Engine {
  /** The in-process worker, when there is one. */
  readonly worker: BullmqWorker | undefined;
}

/** How often `result` re-reads a run's end marker besides listening for its announcement. */
const RESULT_POLL_MS = 500;

/**
 * Creates the BullMQ + Redis engine. Runs are journals in Redis and stage attempts are BullMQ
 * jobs, so any number of {@link createBullmqWorker} processes share the work and a run survives
 * the death of any of them.
 *
 * @example
 * ```ts
 * const engine = createBullmqEngine({ connection: 'redis://127.0.0.1:6379', pipelines: [report] });
 * const { runId } = await engine.start('report', { topic: 'q3' });
 * const outcome = await engine.result(runId);
 * await engine.close();
 * ```
 */
export function createBullmqEngine(options: BullmqEngineOptions): BullmqEngine {
  validatePrices(options.prices, options.model?.modelId);
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const logger = options.logger ?? silentLogger;
  const pipelines = createPipelineSet(options.pipelines);
  const blobs = options.blobs ?? createFsBlobStore({ root: '.baton/blobs' });
  const store = createRunStore(options.connection, prefix, logger);
  const driveQueue = new Queue(QUEUES.drive, { connection: bullmqConnectionOf(options.connection), prefix });
  driveQueue.on('error', (e: Error) => logger.warn('queue error', { queue: driveQueue.name, error: e.message }));
  const observeAll = safeObserver([options.observer], logger);
  const observe = (event: RunEvent): void => {
    if (options.observer) void observeAll(event);
  };
  // result() waiters of this process, by run: a run that ends here wakes them with its outcome
  const endWaiters = new Map<string, Set<(outcome?: RunOutcome) => void>>();
  // the in-process worker's own end of a run answers waiting result() calls without reading it back
  const finishedHere = (event: Extract<RunEvent, { type: 'run-finished' }>): void => {
    const outcome: RunOutcome | undefined =
      event.status === 'succeeded' ? { status: 'succeeded', output: event.output } : event.error ? { status: 'failed', error: event.error } : undefined;
    endWaiters.get(event.runId)?.forEach((f) => f(outcome));
  };
  const worker =
    options.worker === false
      ? undefined
      : createBullmqWorker({
          ...(typeof options.worker === 'object' ? options.worker : {}),
          connection: options.connection,
          prefix,
          pipelines: options.pipelines,
          blobs,
          logger,
          ...(options.model ? { model: options.model } : {}),
          ...(options.limiter ? { limiter: options.limiter } : {}),
          ...(options.prices ? { prices: options.prices } : {}),
          ...(options.observer ? { observer: options.observer } : {}),
          onRunFinished: finishedHere,
          ...(options.claimCheckThreshold === undefined ? {} : { claimCheckThreshold: options.claimCheckThreshold }),
        });

  // one subscriber: run-ended announcements, and review notices relayed from any worker
  const sub = newRedis(redisOptionsOf(options.connection));
  sub.on('error', (e: Error) => logger.warn('redis subscriber error', { error: e.message }));
  sub.on('message', (channel: string, message: string) => {
    if (channel === endedChannel(prefix)) endWaiters.get(message)?.forEach((f) => f());
    else if (channel === reviewsChannel(prefix) && options.notifier) {
      Promise.resolve(options.notifier(JSON.parse(message) as ReviewNotice)).catch((e: unknown) =>
        logger.error('review notifier failed', { error: (e as Error).message }),
      );
    }
  });
  const stalled = options.onRecovering ? watchStalledTasks(options.connection, prefix, options.onRecovering, logger) : undefined;
  const ready = sub
    .subscribe(endedChannel(prefix), ...(options.notifier ? [reviewsChannel(prefix)] : []))
    .then(() => stalled?.ready)
    .then(() => worker?.ready);
  // callers that await `ready` see its failure; an engine closed before it settled must not crash the process
  ready.catch((e: unknown) => logger.debug('engine connections did not open', { error: (e as Error).message }));

  const started = async (runId: string): Promise<ReturnType<typeof foldJournal> & { start: NonNullable<ReturnType<typeof foldJournal>['start']> }> => {
    const s = await store.fold(runId);
    if (!s.start) throw apiError.runNotFound(runId);
    return s as typeof s & { start: NonNullable<typeof s.start> };
  };

  /** Waits for the run's end announcement (with its outcome when this process ended the run) or `ms`. */
  const waitEnd = (runId: string, ms: number): { ended: Promise<RunOutcome | undefined>; cancel(): void } => {
    let done!: (outcome?: RunOutcome) => void;
    const ended = new Promise<RunOutcome | undefined>((resolve) => {
      const set = endWaiters.get(runId) ?? new Set();
      endWaiters.set(runId, set);
      done = (outcome) => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0) endWaiters.delete(runId);
        resolve(outcome);
      };
      const timer = setTimeout(done, ms);
      set.add(done);
    });
    return { ended, cancel: () => done() };
  };

  const decide = async (runId: string, gate: string, decision: ReviewDecision, verdict: 'approved' | 'rejected'): Promise<void> => {
    const entries = await store.read(runId);
    const s = foldJournal(entries);
    const at = new Date().toISOString();
    // decided only where the run can go on: its own version (an engine without the pipeline at all records it for the workers)
    const ir = s.start && pipelines.has(s.start.pipeline) ? pipelines.forRun(runId, s.start.pipeline, s.pin).ir : undefined;
    const entry = decisionEntryFor(runId, s, gate, decision, verdict, at, ir);
    const gen = generationOf(entries);
    // the decision field is shared with the gate's timeout: whichever is first wins, the token is single-use
    const res = await store.record(runId, { field: `decision|${entry.path}@${gen}`, entries: [entry] });
    if (!res.added) {
      // lost the race: the journal now says why (this token decided it: ReviewTokenUsed; the gate's timeout: GateNotOpen)
      decisionEntryFor(runId, foldJournal(await store.read(runId)), gate, decision, verdict, at, ir);
      throw apiError.gateNotOpen(runId, gate);
    }
    const extra = {
      ...(decision.reviewer === undefined ? {} : { reviewer: decision.reviewer }),
      ...(decision.comment === undefined ? {} : { comment: decision.comment }),
      ...(entry.sections === undefined ? {} : { sections: entry.sections }),
    };
    observe({ type: 'review-decided', runId, gate, stepPath: entry.path, decision: verdict, at, ...extra });
    await wakeRun(driveQueue, runId, `decided|${entry.path}|${gen}`);
  };

  return {
    name: 'bullmq',
    worker,
    async start(pipelineOrName, input, startOptions = {}) {
      await ready;
      const pipeline = pipelines.forStart(pipelineOrName, startOptions.version);
      if (typeof pipelineOrName !== 'string' && !pipelines.findForRun(pipeline.name, pinOf(pipeline))) pipelines.add(pipeline);
      const runId = startRunId(startOptions.runId, pipeline.name);
      const now = Date.now();
      const at = new Date(now).toISOString();
      const checked = validateRunInput(pipeline, input);
      const start: JournalEntry = { t: 'start', runId, pipeline: pipeline.name, pin: pinOf(pipeline), input: checked.ok ? checked.input : input, at };
      const end: JournalEntry | undefined = checked.ok ? undefined : { t: 'end', ok: false, error: checked.error, at };
      const res = await store.record(runId, { field: 'start', entries: end ? [start, end] : [start], indexAt: now, ...(end ? { end } : {}) });
      if (!res.added) return { runId };
      observe({ type: 'run-started', runId, pipeline: pipeline.name, engine: 'bullmq', input: start.input, at });
      if (!checked.ok) {
        observe({ type: 'run-finished', runId, status: 'failed', error: checked.error, at });
        return { runId };
      }
      // start returns once the run's first moves are durable: scheduled by the in-process worker
      // from the journal just written, or else by a driver job any worker runs
      if (worker && res.length === 1) {
        try {
          await worker.drive(runId, [start]);
          return { runId };
        } catch (e) {
          logger.warn('first replay failed; a driver job retries it', { runId, error: (e as Error).message });
        }
      }
      await wakeRun(driveQueue, runId, 'start');
      return { runId };
    },
    async result(runId, resultOptions = {}) {
      await ready;
      const deadline = resultOptions.timeoutMs === undefined ? Infinity : Date.now() + resultOptions.timeoutMs;
      if (!(await store.exists(runId))) throw apiError.runNotFound(runId);
      for (;;) {
        const left = deadline - Date.now();
        // listen before reading: an end announced while the read is in flight is not missed
        const wait = waitEnd(runId, Math.max(0, Math.min(RESULT_POLL_MS, left)));
        const end = await store.end(runId);
        if (end) {
          wait.cancel();
          return resolveOutcome(end.ok ? { status: 'succeeded', output: end.output } : { status: 'failed', error: end.error! }, blobs);
        }
        if (left <= 0) {
          wait.cancel();
          throw apiError.resultTimedOut(runId, resultOptions.timeoutMs!);
        }
        const ended = await wait.ended;
        if (ended) return resolveOutcome(ended, blobs);
      }
    },
    async status(runId) {
      const [s, running, calls] = await Promise.all([started(runId), store.running(runId), readModelCalls(store.redis, prefix, runId)]);
      return withModelCalls(runInfoOf(runId, s, running), calls);
    },
    approve: (runId, gate, decision) => decide(runId, gate, decision, 'approved'),
    reject: (runId, gate, decision) => decide(runId, gate, decision, 'rejected'),
    async redrive(runId) {
      const entries = await store.read(runId);
      const s = foldJournal(entries);
      if (!s.start) throw apiError.runNotFound(runId);
      if (!s.end) throw apiError.runNotRedrivable(runId, 'in-progress');
      if (s.end.ok) throw apiError.runNotRedrivable(runId, 'succeeded');
      // the run's own version, with the stage versions loaded now: outputs of changed stages run again
      const pipeline = pipelines.forRun(runId, s.start.pipeline, s.pin, { allowStageChanges: true });
      if (!validateRunInput(pipeline, s.start.input).ok) throw apiError.runNotRedrivable(runId, 'invalid-input');
      const gen = generationOf(entries) + 1;
      const redrive: JournalEntry = { t: 'redrive', at: new Date().toISOString(), ...(s.pin ? { stages: pinOf(pipeline).stages } : {}) };
      const res = await store.record(runId, { field: `redrive|${gen}`, entries: [redrive], end: 'delete' });
      if (!res.added) return;
      observe({ type: 'run-redriven', runId, redrive: gen, at: new Date().toISOString() });
      await wakeRun(driveQueue, runId, `redrive|${gen}`);
    },
    async list(filter = {}) {
      const rows: RunSummary[] = [];
      for (const runId of await store.runIds()) {
        const s = await store.fold(runId);
        if (!s.start) continue;
        const i = runInfoOf(runId, s as Parameters<typeof runInfoOf>[1], []);
        if (filter.status && i.status !== filter.status) continue;
        if (filter.pipeline && i.pipeline !== filter.pipeline) continue;
        rows.push({ runId, pipeline: i.pipeline, engine: i.engine, status: i.status, startedAt: i.startedAt, updatedAt: i.updatedAt });
      }
      return rows;
    },
    /** `await using` closes the engine (same as {@link Engine.close}). */
    [Symbol.asyncDispose]() {
      return this.close();
    },
    async close() {
      await worker?.close();
      await stalled?.close();
      await driveQueue.close();
      await sub.quit().catch(() => sub.disconnect());
      await store.close();
    },
  };
}
