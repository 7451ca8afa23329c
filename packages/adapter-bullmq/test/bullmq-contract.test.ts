import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Queue, Worker, type Job } from 'bullmq';
import { createFsBlobStore, type Logger } from '@baton/core';
import { createProbeDir } from '@baton/core/testkit';
import { captureAdd, checkFusedContract, loadBullmqAddScripts } from '../src/bullmq-contract.js';
import { TASK_JOB_OPTIONS, createTaskJobEncoder, taskClaim, type TaskJobData } from '../src/enqueue.js';
import { addPendingJobs, type FlushContext } from '../src/flush.js';
import { bullmqConnectionOf } from '../src/options.js';
import type { TaskOrder } from '../src/replay.js';
import { createRunStore, type RunStore } from '../src/store.js';
import { createBullmqEngine } from '../src/index.js';
import { chaosPipelines } from './fixtures/chaos-pipelines.js';

// The contract between the fused enqueue script and BullMQ: this file fails on any BullMQ upgrade
// that changes what the script relies on (script names and key counts, the keys' order, the
// argument layout, the job hash a worker reads), and proves the public path that replaces it.

const bullmqVersion = (createRequire(import.meta.url)('bullmq/package.json') as { version: string }).version;
const runId = `c-${randomBytes(3).toString('hex')}`;
const task = (stepPath: string, delayMs = 0): TaskOrder => ({
  runId,
  pipeline: 'p',
  gen: 0,
  stepPath,
  stage: 's',
  input: { stepPath },
  attempt: 1,
  hash: 'h',
  delayMs,
});

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const noop = (): void => undefined;
  const logger = { debug: noop, info: noop, error: noop, warn: (msg: string) => void warnings.push(msg), child: () => logger, warnings };
  return logger as unknown as Logger & { warnings: string[] };
}

/** A job hash as BullMQ stores it, without what differs between any two adds (its id, its timestamp). */
async function jobHash(store: RunStore, queue: Queue, id: string): Promise<Record<string, unknown>> {
  const all = await store.redis.hgetall(`${queue.keys['']}${id}`);
  const { timestamp: _t, opts, ...rest } = all;
  const { jobId: _id, ...options } = JSON.parse(opts ?? '{}') as Record<string, unknown>;
  return { ...rest, opts: options };
}

describe('BullMQ contract of the fused enqueue path (real Redis)', () => {
  let store: RunStore;
  let queue: Queue;
  const prefix = `contract-${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    store = createRunStore(inject('redisUrl'), prefix);
    queue = new Queue('task', { connection: bullmqConnectionOf(inject('redisUrl')), prefix });
    await store.record(runId, { field: 'start', entries: [{ t: 'start', runId, pipeline: 'p', input: {}, at: 'x' }], indexAt: 1 });
  });
  afterAll(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    await store.close();
  });

  it('finds the add scripts by name and captures the calls it relies on, key for key', async () => {
    const scripts = loadBullmqAddScripts();
    expect(scripts?.standard).toMatchObject({ name: 'addStandardJob', keys: 9 });
    expect(scripts?.delayed).toMatchObject({ name: 'addDelayedJob', keys: 6 });
    expect(await checkFusedContract(queue)).toMatchObject({ ok: true });
    const k = queue.keys;
    const standard = await captureAdd(queue, 's', { jobId: 'x' });
    expect(standard?.command).toBe(`addStandardJob:${bullmqVersion}`);
    expect(standard?.args.slice(0, 9)).toEqual([k.wait, k.paused, k.meta, k.id, k.completed, k.delayed, k.active, k.events, k.marker]);
    expect(standard?.args.length).toBe(12);
    const delayed = await captureAdd(queue, 's', { jobId: 'y', delay: 500 });
    expect(delayed?.command).toBe(`addDelayedJob:${bullmqVersion}`);
    expect(delayed?.args.slice(0, 6)).toEqual([k.marker, k.meta, k.id, k.delayed, k.completed, k.events]);
    expect(delayed?.args.length).toBe(9);
  });

  it('adds, through the enqueue script, the same job hash as Queue.add, and a BullMQ worker reads the same job', async () => {
    const encoder = createTaskJobEncoder(queue);
    expect(await encoder.path).toBe('fused');
    const now = task('now');
    const later = task('later', 60_000);
    const res = await store.enqueue(runId, { queueKeys: encoder.queueKeys, outcomes: [], jobs: await encoder.encode([now, later], 25) });
    expect(res).toMatchObject({ status: 'written', pending: [] });
    const fusedIds = await queue.getJobs(['waiting', 'delayed']);
    const fusedNow = fusedIds.find((j) => (j.data as TaskJobData).tasks[0]!.stepPath === 'now')!;
    const fusedLater = fusedIds.find((j) => (j.data as TaskJobData).tasks[0]!.stepPath === 'later')!;
    // the references: BullMQ's public API, same name, data and options
    const refNow = await queue.add('s', { tasks: [now] }, { ...TASK_JOB_OPTIONS, jobId: 'ref-now' });
    const refLater = await queue.add('s', { tasks: [later] }, { ...TASK_JOB_OPTIONS, jobId: 'ref-later', delay: 60_000 });
    expect(await jobHash(store, queue, fusedNow.id!)).toEqual(await jobHash(store, queue, refNow.id!));
    const [fl, rl] = [await jobHash(store, queue, fusedLater.id!), await jobHash(store, queue, refLater.id!)];
    expect(Object.keys(fl).sort()).toEqual(Object.keys(rl).sort());
    expect({ ...fl, delay: '' }).toEqual({ ...rl, delay: '' });
    expect(await fusedLater.getState()).toBe('delayed');

    // a BullMQ worker takes the fused job as it takes the reference: name, data, options
    const seen = new Map<string, Pick<Job, 'name' | 'data' | 'opts' | 'attemptsMade'>>();
    const worker = new Worker(
      'task',
      async (job) => void seen.set(job.id!, { name: job.name, data: job.data as unknown, opts: job.opts, attemptsMade: job.attemptsMade }),
      {
        connection: bullmqConnectionOf(inject('redisUrl')),
        prefix,
      },
    );
    try {
      for (let i = 0; i < 200 && !(seen.has(fusedNow.id!) && seen.has('ref-now')); i++) await new Promise((r) => setTimeout(r, 20));
    } finally {
      await worker.close();
    }
    const { opts: fusedOpts, ...fusedRest } = seen.get(fusedNow.id!)!;
    const { opts: refOpts, ...refRest } = seen.get('ref-now')!;
    expect(fusedRest).toEqual(refRest);
    expect({ ...fusedOpts, jobId: undefined }).toEqual({ ...refOpts, jobId: undefined });
    expect(fusedRest.data).toEqual({ tasks: [now] });
  });

  it('selects the public path, with one warning, when the capture does not match', async () => {
    const logger = recordingLogger();
    const real = loadBullmqAddScripts()!;
    for (const scripts of [
      { ...real, standard: { ...real.standard, keys: 10 } },
      { ...real, delayed: { ...real.delayed, name: 'addDelayedJobV2' } },
      { ...real, standard: { ...real.standard, content: 'local args = ARGV[1]' } },
    ]) {
      const encoder = createTaskJobEncoder(queue, { logger, scripts });
      expect(await encoder.path).toBe('public');
      await encoder.encode([task('w1')], 25);
      await encoder.encode([task('w2')], 25);
    }
    expect(logger.warnings).toHaveLength(3);
    expect(logger.warnings[0]).toContain('Queue.addBulk');
  });

  it('public path: claims in the script, Queue.addBulk with deterministic ids, each task once, pending jobs re-added', async () => {
    const encoder = createTaskJobEncoder(queue, { path: 'public' });
    const flush = { store, encoder, taskBatchSize: 2 } as unknown as FlushContext;
    const tasks = ['p1', 'p2', 'p3'].map((p) => task(p));
    const res = await store.enqueue(runId, { queueKeys: encoder.queueKeys, outcomes: [], jobs: await encoder.encode(tasks, 2) });
    expect(res.pending.map((j) => j.id)).toEqual([`t|${taskClaim(tasks[0]!)}`, `t|${taskClaim(tasks[2]!)}`]);
    // claimed, not added yet: a caller that dies here leaves them pending for the next replay
    expect(await queue.getJob(res.pending[0]!.id)).toBeUndefined();
    expect((await store.pendingJobs(runId)).map((j) => j.id).sort()).toEqual(res.pending.map((j) => j.id).sort());
    await addPendingJobs(flush, runId);
    expect(await store.pendingJobs(runId)).toEqual([]);
    const added = await queue.getJob(res.pending[0]!.id);
    expect((added?.data as TaskJobData).tasks.map((t) => t.stepPath)).toEqual(['p1', 'p2']);
    expect(added?.opts).toMatchObject({ attempts: TASK_JOB_OPTIONS.attempts });
    // added twice (the caller and a replay racing): one job
    await encoder.addPending(res.pending);
    expect((await queue.getJobs(['waiting'])).filter((j) => j.id?.startsWith('t|')).length).toBe(2);
    // planned again: claimed before, nothing pending; a new task in a group whose first is claimed gets its own id
    const again = await store.enqueue(runId, { queueKeys: encoder.queueKeys, outcomes: [], jobs: await encoder.encode([task('p1'), task('p4')], 2) });
    expect(again.pending.map((j) => j.id)).toEqual([`t|${taskClaim(task('p4'))}`]);
    expect(again.pending[0]!.data.tasks.map((t) => t.stepPath)).toEqual(['p4']);
  });

  it('runs pipelines end to end on either path', async () => {
    for (const enqueuePath of ['public', 'auto'] as const) {
      const p = `${prefix}-${enqueuePath}`;
      const engine = createBullmqEngine({
        connection: inject('redisUrl'),
        prefix: p,
        pipelines: chaosPipelines,
        blobs: createFsBlobStore({ root: mkdtempSync(join(tmpdir(), 'baton-contract-')) }),
        worker: { enqueuePath, taskBatchSize: 2 },
      });
      try {
        const items = Array.from({ length: 6 }, (_, n) => ({ n, key: `k${n}` }));
        const { runId: id } = await engine.start('chaos-map', { probe: createProbeDir(), delayMs: 5, items });
        const outcome = await engine.result(id, { timeoutMs: 30_000 });
        expect(outcome.status).toBe('succeeded');
        const tq = new Queue('task', { connection: bullmqConnectionOf(inject('redisUrl')), prefix: p });
        const ids = (await tq.getJobs(['completed'])).map((j) => j.id!);
        await tq.close();
        expect(ids.length).toBeGreaterThan(0);
        // public jobs are named after their first task's claim; fused ones get fresh ids
        expect(ids.every((i) => (enqueuePath === 'public' ? i.startsWith('t|') : i.startsWith(`${id}|tasks|`)))).toBe(true);
      } finally {
        await engine.close();
      }
    }
  });
});
