import { Queue, Worker, type Job } from 'bullmq';
import { createFsBlobStore, silentLogger, type ReviewNotice, type RunEvent } from '@baton/core';
import {
  createPipelineSet,
  invokeStage,
  safeObserver,
  validatePrices,
  type EngineBaseOptions,
  type JournalEntry,
  type StageRunnerOptions,
} from '@baton/core/engine';
import {
  DEFAULT_TASK_BATCH_SIZE,
  JOB_OPTIONS,
  jobBackoffMs,
  TASK_JOB_OPTIONS,
  createTaskJobEncoder,
  taskClaim,
  type EnqueuePath,
  type InlineOwner,
  type TaskJobData,
} from './enqueue.js';
import { NOTICE_GRACE_MS, publishNotice, taskField, wakeRun, type FlushContext } from './flush.js';
import { QUEUES } from './keys.js';
import { DEFAULT_PREFIX, bullmqConnectionOf, type BullmqConnectionOptions } from './options.js';
import type { TaskOrder } from './replay.js';
import { createRunDriver } from './driver.js';
import { countingModel } from './model-calls.js';
import { createRunStore } from './store.js';

/** How long a close waits for BullMQ's workers to finish closing once this process's jobs are done. */
const CLOSE_GRACE_MS = 3000;

/** Default BullMQ job lock of a worker's jobs (see {@link BullmqWorkerTuning.lockDurationMs}). */
export const DEFAULT_LOCK_DURATION_MS = 6000;
/** Default interval of a worker's check for jobs of dead workers. */
export const DEFAULT_STALLED_INTERVAL_MS = 3000;

/** How a worker uses BullMQ. */
export interface BullmqWorkerTuning {
  /** Task jobs run at once by this worker (each carries up to `taskBatchSize` stage attempts). @default 50 */
  concurrency?: number;
  /**
   * Most stage attempts of one run a task job carries: map items that become due together are
   * enqueued in jobs of up to this many, run side by side by the worker that takes the job
   * (the map's `maxConcurrency` still bounds them). 1: one job per attempt. @default 25
   */
  taskBatchSize?: number;
  /** Driver jobs (replays after starts, timers, approvals, redrives) run at once. @default 10 */
  driverConcurrency?: number;
  /**
   * BullMQ job lock: a worker that dies (kill -9) releases its jobs to others after this; a live
   * worker renews it every half of it. Together with `stalledIntervalMs` it bounds how long a
   * killed worker's steps wait: at most about `lockDurationMs + 2 * stalledIntervalMs` (12 s with
   * the defaults). A step whose process blocks its event loop longer than this may run twice
   * (jobs are idempotent: its recorded outcome wins).
   * @default 6000
   */
  lockDurationMs?: number;
  /** How often workers look for jobs of dead workers (each look is one Redis script call). @default 3000 */
  stalledIntervalMs?: number;
  /**
   * How long after a gate opens its notice must be recorded as delivered: a worker that died in
   * between left a token nobody holds, so the next replay makes a new one and delivers the notice
   * again (the lost token is void). Keep notifiers well under it (queue the e-mail, do not send it
   * inline). @default 20000
   */
  noticeGraceMs?: number;
  /** Schedule a replay of every unfinished run when the worker starts. @default true */
  recoverOnStart?: boolean;
  /**
   * How task jobs reach BullMQ. `auto`: inside the script that journals outcomes (BullMQ's own
   * add scripts embedded: one atomic round trip per hop) when the installed BullMQ makes exactly
   * the calls that path relies on (checked at start), else through `Queue.addBulk` with
   * deterministic job ids, with one warning. `public`: always `Queue.addBulk`.
   * @default 'auto'
   */
  enqueuePath?: 'auto' | 'public';
}

/** Options of {@link createBullmqWorker}. */
export interface BullmqWorkerOptions extends BullmqConnectionOptions, BullmqWorkerTuning, EngineBaseOptions, StageRunnerOptions {
  /**
   * Called synchronously when this worker has recorded the end of a run (before `observer`
   * hears of it). The engine uses it to answer its `result()` waiters without reading the end back.
   */
  onRunFinished?: (event: Extract<RunEvent, { type: 'run-finished' }>) => void;
}

/** A running BullMQ worker (`baton worker --engine bullmq`). */
export interface BullmqWorker {
  /** Resolves when the worker's queues and connections are ready. */
  readonly ready: Promise<void>;
  /** How this worker adds task jobs: `fused` (inside the journal script) or `public` (`Queue.addBulk`); see {@link BullmqWorkerTuning.enqueuePath}. */
  readonly enqueuePath: Promise<EnqueuePath>;
  /** Schedules a replay of every unfinished run; returns their ids. */
  recover(): Promise<string[]>;
  /**
   * Replays a run in this process now and schedules what it decides (what a driver job does).
   * `journal`: the run's journal as the caller has just written it (the engine's start), which
   * saves reading it back. @default read from Redis
   */
  drive(runId: string, journal?: readonly JournalEntry[]): Promise<void>;
  /** Stops taking jobs, waits for the active ones, closes connections. */
  close(): Promise<void>;
  /** `await using worker = createBullmqWorker(…)` closes it gracefully at the end of the block. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Creates a worker that runs task jobs (through core's `invokeStage`) and drives runs by
 * replaying core's interpreter. A task's outcome is journaled before its job completes, and the
 * job completes only after a replay that saw the outcome has scheduled what comes next, so a
 * worker killed at any moment leaves a stalled job whose redelivery finishes the hop without
 * running a recorded step again.
 *
 * @example
 * ```ts
 * const worker = createBullmqWorker({ connection: 'redis://127.0.0.1:6379', pipelines: [report] });
 * await worker.ready;
 * process.on('SIGTERM', () => void worker.close());
 * ```
 */
export function createBullmqWorker(options: BullmqWorkerOptions): BullmqWorker {
  validatePrices(options.prices, options.model?.modelId);
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const logger = options.logger ?? silentLogger;
  const blobs = options.blobs ?? createFsBlobStore({ root: '.baton/blobs' });
  const pipelines = createPipelineSet(options.pipelines);
  const store = createRunStore(options.connection, prefix, logger);
  const connection = bullmqConnectionOf(options.connection);
  const driveQueue = new Queue(QUEUES.drive, { connection, prefix });
  const taskQueue = new Queue(QUEUES.task, { connection, prefix });
  for (const q of [driveQueue, taskQueue]) q.on('error', (e: Error) => logger.warn('queue error', { queue: q.name, error: e.message }));
  const observeAll = safeObserver([options.observer], logger);
  // events go out only to someone who listens
  const observing = options.observer !== undefined;
  const observe = (event: RunEvent): void => {
    if (event.type === 'run-finished') options.onRunFinished?.(event);
    if (observing) void observeAll(event);
  };
  const deliver = async (notice: ReviewNotice): Promise<void> => {
    await publishNotice(store, notice);
    try {
      await options.notifier?.(notice);
    } catch (e) {
      logger.error('review notifier failed', { runId: notice.runId, gate: notice.gate, error: (e as Error).message });
    }
  };
  let closing = false;
  const taskBatchSize = Math.max(1, options.taskBatchSize ?? DEFAULT_TASK_BATCH_SIZE);
  const flushCtx: FlushContext = {
    store,
    driveQueue,
    encoder: createTaskJobEncoder(taskQueue, { path: options.enqueuePath ?? 'auto', logger }),
    taskBatchSize,
    deliver,
    observe,
    noticeGraceMs: options.noticeGraceMs ?? NOTICE_GRACE_MS,
  };
  const driver = createRunDriver({ store, pipelines, blobs, flush: flushCtx });

  /** Runs one task of a task job. `firstDelivery`: the job never ran before, so no task of it did. */
  const runTask = async (t: TaskOrder, job: Job<TaskJobData>, firstDelivery: boolean, owner: InlineOwner | undefined): Promise<TaskOrder | undefined> => {
    const field = taskField(t);
    const startedAt = new Date().toISOString();
    const running = { path: t.stepPath, stage: t.stage, attempt: t.attempt, at: startedAt };
    if (!firstDelivery) {
      const recorded = await store.begin(t.runId, field, running);
      if (recorded !== undefined) {
        await driver.drive(t.runId, recorded);
        return undefined;
      }
    }
    // the stage of the run's own pipeline version: another version may hold another stage of that name
    const stage = pipelines.get(t.pipeline, t.pipelineVersion)?.stages.get(t.stage);
    if (!stage)
      throw new Error(
        `this worker does not know stage "${t.stage}" of pipeline "${t.pipeline}"${t.pipelineVersion === undefined ? '' : ` version ${t.pipelineVersion}`}`,
      );
    if (t.attempt === 1) observe({ type: 'step-started', runId: t.runId, stepPath: t.stepPath, kind: 'task', at: startedAt });
    const result = await invokeStage(stage, t.input, {
      blobs,
      runId: t.runId,
      stepPath: t.stepPath,
      attempt: t.attempt,
      logger,
      logBindings: { engine: 'bullmq', jobId: job.id },
      // counted in Redis as each call is made: a call of an execution killed mid-attempt still counts
      ...(options.model ? { model: countingModel(options.model, store.redis, prefix, t.runId, `${t.stepPath}#${t.attempt}`) } : {}),
      ...(options.limiter ? { limiter: options.limiter } : {}),
      ...(options.prices ? { prices: options.prices } : {}),
      ...(t.timeoutMs === undefined ? {} : { timeoutMs: t.timeoutMs }),
      ...(options.claimCheckThreshold === undefined ? {} : { claimCheckThreshold: options.claimCheckThreshold }),
      // attempt-finished only once the outcome is journaled: a redelivery that finds it recorded does not report twice
      report: { observe, startedAt, deferFinished: true },
    });
    const at = result.finishedAt;
    const base = {
      t: 'task' as const,
      path: t.stepPath,
      stage: t.stage,
      stageVersion: stage.version,
      hash: t.hash,
      attempt: t.attempt,
      startedAt,
      at,
      metrics: result.metrics,
    };
    const entry: JournalEntry = result.ok ? { ...base, ok: true, output: result.output } : { ...base, ok: false, error: result.error };
    const finished = (): void => {
      if (result.finished) observe(result.finished);
      if (result.ok) observe({ type: 'step-finished', runId: t.runId, stepPath: t.stepPath, kind: 'task', status: 'succeeded', at });
    };
    const runningField = `${t.stepPath}#${t.attempt}`;
    // a redelivery may race another delivery of the same attempt: only first deliveries take the fast path
    if (firstDelivery) {
      const settled = await driver.settle(
        t.runId,
        { field, entry, running: runningField, claim: taskClaim(t), ...(owner && !closing ? { owner } : {}) },
        finished,
      );
      if (typeof settled === 'object') return settled;
      if (settled) return undefined;
    }
    const from = driver.cachedLength(t.runId);
    const res = await store.record(t.runId, { field, entries: [entry], running: runningField, ...(from > 0 ? { tailFrom: from } : {}) });
    if (from > 0) driver.offer(t.runId, from, res.tail);
    if (res.added) finished();
    await driver.drive(t.runId, res.length);
    return undefined;
  };

  const runTasks = async (job: Job<TaskJobData>, token?: string): Promise<void> => {
    // a redelivered job (its worker died, or it failed) may find outcomes recorded: each task checks first.
    // A first delivery cannot (a task is claimed by one job only, ever) and saves the round trip.
    const firstDelivery = job.attemptsStarted <= 1 && job.attemptsMade === 0 && !job.stalledCounter;
    const runIds = new Set(job.data.tasks.map((t) => t.runId));
    if (firstDelivery) {
      // one write marks the job's attempts in flight (a task run inline is marked by the write that hands it over)
      const at = new Date().toISOString();
      for (const runId of runIds)
        store.markRunning(
          runId,
          job.data.tasks.filter((t) => t.runId === runId).map((t) => ({ path: t.stepPath, stage: t.stage, attempt: t.attempt, at })),
        );
    } else {
      // tasks the job's last delivery was running inline go back to the queue through the next replay
      for (const runId of runIds) if ((await store.releaseInline(runId, job.id!)) > 0) driver.forget(runId);
    }
    const owner: InlineOwner | undefined = token === undefined ? undefined : { jobId: job.id!, token, lockKey: `${taskWorker.toKey(job.id!)}:lock` };
    // a task handed over by the settle of the one before runs next, under this job's lock: a
    // sequential hop costs one Redis round trip, and a crash redelivers this job
    const chain = async (first: TaskOrder): Promise<void> => {
      let next: TaskOrder | undefined = await runTask(first, job, firstDelivery, owner);
      while (next) next = await runTask(next, job, true, owner);
    };
    // the job ends when every task has settled, so a failure never leaves a task running unowned
    const settled = await Promise.allSettled(job.data.tasks.map(chain));
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  };

  const runDriver = async (job: Job<{ runId: string }>): Promise<void> => {
    await driver.drive(job.data.runId);
  };

  /** Jobs this process is running, for a graceful close. */
  const active = new Set<Promise<void>>();
  const tracked =
    <J extends Job>(fn: (job: J, token?: string) => Promise<void>) =>
    (job: J, token?: string): Promise<void> => {
      const p = fn(job, token);
      const settled = p.then(
        () => undefined,
        () => undefined,
      );
      active.add(settled);
      void settled.then(() => active.delete(settled));
      return p;
    };

  const workerOptions = {
    connection,
    prefix,
    lockDuration: options.lockDurationMs ?? DEFAULT_LOCK_DURATION_MS,
    stalledInterval: options.stalledIntervalMs ?? DEFAULT_STALLED_INTERVAL_MS,
    // jobs are idempotent: a job orphaned by any number of crashes is simply redelivered
    maxStalledCount: 1_000_000,
    removeOnComplete: JOB_OPTIONS.removeOnComplete,
    removeOnFail: JOB_OPTIONS.removeOnFail,
    settings: { backoffStrategy: jobBackoffMs },
  };
  const taskWorker = new Worker<TaskJobData>(QUEUES.task, tracked(runTasks), {
    ...workerOptions,
    removeOnComplete: TASK_JOB_OPTIONS.removeOnComplete,
    concurrency: options.concurrency ?? 50,
  });
  const driveWorker = new Worker<{ runId: string }>(QUEUES.drive, tracked(runDriver), { ...workerOptions, concurrency: options.driverConcurrency ?? 10 });
  for (const w of [taskWorker, driveWorker]) {
    w.on('failed', (job, err) => logger.warn('job failed', { queue: w.name, jobId: job?.id, error: err.message }));
    w.on('error', (err) => logger.error('worker error', { queue: w.name, error: err.message }));
  }

  const recover = async (): Promise<string[]> => {
    const resumed: string[] = [];
    const stamp = Date.now();
    for (const runId of await store.activeRunIds()) {
      await wakeRun(driveQueue, runId, `recover|${stamp}`);
      resumed.push(runId);
    }
    return resumed;
  };

  const ready = (async () => {
    await Promise.all([taskWorker.waitUntilReady(), driveWorker.waitUntilReady(), driveQueue.waitUntilReady(), taskQueue.waitUntilReady()]);
    if (options.recoverOnStart ?? true) await recover();
  })();
  ready.catch((e: unknown) => logger.error('worker failed to start', { error: (e as Error).message }));

  return {
    ready,
    enqueuePath: flushCtx.encoder.path,
    recover,
    drive: (runId, journal) => (journal ? driver.drive(runId, journal.length, journal) : driver.drive(runId)),
    /** `await using` closes the worker gracefully (same as {@link BullmqWorker.close}). */
    [Symbol.asyncDispose]() {
      return this.close();
    },
    async close() {
      // chains running inline end at their next hop: what comes next goes back to the queue
      closing = true;
      const workersClosed = Promise.allSettled([taskWorker.close(), driveWorker.close()]);
      // the jobs this process runs are what a graceful close waits for
      while (active.size) await Promise.allSettled([...active]);
      // BullMQ's own close can wait forever when it starts while a blocking connection is still
      // reconnecting after a Redis restart (taskforcesh/bullmq#4656): bounded once our jobs are done
      let timer: NodeJS.Timeout | undefined;
      const closed = await Promise.race([workersClosed.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), CLOSE_GRACE_MS)))]);
      clearTimeout(timer);
      if (!closed) logger.warn('BullMQ workers did not finish closing (a connection is still reconnecting); leaving them', { graceMs: CLOSE_GRACE_MS });
      await Promise.allSettled([driveQueue.close(), taskQueue.close()]);
      await store.close();
    },
  };
}
