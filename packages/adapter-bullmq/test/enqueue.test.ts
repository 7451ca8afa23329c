import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Queue } from 'bullmq';
import type { JournalEntry } from '@baton/core/engine';
import { JOB_BACKOFF_MAX_MS, JOB_OPTIONS, createTaskJobEncoder, jobBackoffMs, type TaskJobData } from '../src/enqueue.js';
import { bullmqConnectionOf } from '../src/options.js';
import type { TaskOrder } from '../src/replay.js';
import { createRunStore, type RunStore } from '../src/store.js';

// The one script that journals task outcomes and enqueues the task jobs they unlock, on real Redis.

const runId = `r-${randomBytes(3).toString('hex')}`;
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
const outcome = (path: string): JournalEntry => ({ t: 'task', path, stage: 's', hash: 'h', attempt: 1, ok: true, output: { path }, startedAt: 'x', at: 'y' });

describe('enqueue script (real Redis)', () => {
  let store: RunStore;
  let queue: Queue;
  const prefix = `enq-${randomBytes(3).toString('hex')}`;
  const jobsData = async (): Promise<TaskOrder[][]> => {
    const jobs = await queue.getJobs(['waiting', 'delayed']);
    return jobs.map((j) => (j.data as TaskJobData).tasks);
  };

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

  it('groups due tasks into jobs of at most the batch size, a delayed task alone, and claims each task once', async () => {
    const encoder = createTaskJobEncoder(queue);
    const tasks = ['a', 'b', 'c', 'd', 'e'].map((p) => task(p));
    const res = await store.enqueue(runId, {
      queueKeys: createTaskJobEncoder(queue).queueKeys,
      outcomes: [],
      jobs: await encoder.encode([...tasks, task('late', 60_000)], 2),
    });
    expect(res.status).toBe('written');
    const data = await jobsData();
    expect(data.map((g) => g.map((t) => t.stepPath).join(',')).sort()).toEqual(['a,b', 'c,d', 'e', 'late']);
    expect((await queue.getDelayed()).map((j) => (j.data as TaskJobData).tasks[0]!.stepPath)).toEqual(['late']);

    // the same tasks planned again (another process's replay): only the new one is enqueued
    await store.enqueue(runId, {
      queueKeys: createTaskJobEncoder(queue).queueKeys,
      outcomes: [],
      jobs: await encoder.encode([task('a'), task('b'), task('f')], 8),
    });
    const after = (await jobsData())
      .flat()
      .map((t) => t.stepPath)
      .sort();
    expect(after).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'late']);
  });

  it('writes outcomes with their jobs only on the journal the plan saw, and returns what was appended since', async () => {
    const encoder = createTaskJobEncoder(queue);
    const before = (await store.read(runId)).length;
    // another process appended an outcome since this caller read the journal: still written, the tail comes back
    await store.record(runId, { field: 'task|x#1@0', entries: [outcome('x')] });
    const res = await store.enqueue(runId, {
      queueKeys: createTaskJobEncoder(queue).queueKeys,
      expectLength: before,
      outcomes: [{ field: 'task|y#1@0', running: 'y#1', claim: '', entry: outcome('y') }],
      jobs: await encoder.encode([task('z')], 8),
    });
    expect(res.status).toBe('written');
    expect(res.tail.map((e) => (e as { path: string }).path)).toEqual(['x']);
    expect((await store.read(runId)).slice(-2).map((e) => (e as { path: string }).path)).toEqual(['x', 'y']);
    expect((await jobsData()).flat().some((t) => t.stepPath === 'z')).toBe(true);

    // the same outcome again: nothing is written, no job is added
    const again = await store.enqueue(runId, {
      queueKeys: createTaskJobEncoder(queue).queueKeys,
      expectLength: res.length,
      outcomes: [{ field: 'task|y#1@0', running: 'y#1', claim: '', entry: outcome('y') }],
      jobs: await encoder.encode([task('w')], 8),
    });
    expect(again.status).toBe('recorded');
    expect((await jobsData()).flat().some((t) => t.stepPath === 'w')).toBe(false);
  });

  it('hands a task to its owner only while the owner holds its job lock, and a redelivery releases it', async () => {
    const encoder = createTaskJobEncoder(queue);
    const lockKey = `${prefix}:task:owner-job:lock`;
    await store.redis.set(lockKey, 'token-1');
    const owner = { jobId: 'owner-job', token: 'token-1', lockKey };
    const handed = await store.enqueue(runId, {
      queueKeys: createTaskJobEncoder(queue).queueKeys,
      outcomes: [],
      jobs: [encoder.encodeInline(task('i1'), owner), encoder.encodeInline(task('i2'), { ...owner, token: 'stale' })],
    });
    expect(handed.inlined).toEqual(['inlined', 'lost']);
    expect((await store.running(runId)).map((r) => r.path)).toContain('i1');
    // the same task again: claimed already, nobody else gets it
    expect(
      (await store.enqueue(runId, { queueKeys: createTaskJobEncoder(queue).queueKeys, outcomes: [], jobs: [encoder.encodeInline(task('i1'), owner)] })).inlined,
    ).toEqual(['taken']);
    // the lost one was not claimed: a plain enqueue adds it
    await store.enqueue(runId, { queueKeys: createTaskJobEncoder(queue).queueKeys, outcomes: [], jobs: await encoder.encode([task('i2')], 8) });
    expect((await jobsData()).flat().some((t) => t.stepPath === 'i2')).toBe(true);
    // the owner's job is delivered again: its inline claim goes, so a replay can enqueue the task
    expect(await store.releaseInline(runId, 'owner-job')).toBe(1);
    await store.enqueue(runId, { queueKeys: createTaskJobEncoder(queue).queueKeys, outcomes: [], jobs: await encoder.encode([task('i1')], 8) });
    expect((await jobsData()).flat().some((t) => t.stepPath === 'i1')).toBe(true);
  });

  it('claims a plan of more tasks than one Redis call takes, and a task planned twice in one write once', async () => {
    const encoder = createTaskJobEncoder(queue);
    const wide = Array.from({ length: 4100 }, (_, i) => task(`wide[${i}]`));
    const lockKey = `${prefix}:task:wide-owner:lock`;
    await store.redis.set(lockKey, 'token-w');
    const owner = { jobId: 'wide-owner', token: 'token-w', lockKey };
    // the same task as an inline hand-over and inside a job of the same write
    const res = await store.enqueue(runId, {
      queueKeys: encoder.queueKeys,
      outcomes: [],
      jobs: [encoder.encodeInline(task('wide[0]'), owner), ...(await encoder.encode(wide, 1000))],
    });
    expect(res.inlined).toEqual(['inlined']);
    const queued = (await jobsData())
      .flat()
      .map((t) => t.stepPath)
      .filter((p) => p.startsWith('wide['));
    expect(queued).toHaveLength(4099);
    expect(new Set(queued).size).toBe(4099);
    expect(queued).not.toContain('wide[0]');
    // every claim was recorded: planned again, nothing new is enqueued
    await store.enqueue(runId, { queueKeys: encoder.queueKeys, outcomes: [], jobs: await encoder.encode(wide, 1000) });
    expect((await jobsData()).flat().filter((t) => t.stepPath.startsWith('wide['))).toHaveLength(4099);
  });

  it('writes nothing when the journal ended or was redriven since the plan, or is shorter than the plan saw', async () => {
    const len = (await store.read(runId)).length;
    const write = (expectLength: number, path: string): ReturnType<RunStore['enqueue']> =>
      store.enqueue(runId, {
        queueKeys: createTaskJobEncoder(queue).queueKeys,
        expectLength,
        outcomes: [{ field: `task|${path}#1@0`, running: '', claim: '', entry: outcome(path) }],
        jobs: [],
      });
    expect((await write(len + 5, 'v')).status).toBe('moved');
    await store.record(runId, { field: 'redrive|1', entries: [{ t: 'redrive', at: 'x' }] });
    expect((await write(len, 'v')).status).toBe('moved');
    expect((await store.read(runId)).some((e) => (e as { path?: string }).path === 'v')).toBe(false);
  });
});

describe('job retries', () => {
  it('a failed job is tried again for as long as it fails, doubling from 250 ms with jitter and never waiting more than 10 s', () => {
    expect(JOB_OPTIONS.attempts).toBeGreaterThanOrEqual(1_000_000);
    for (let n = 1; n <= 40; n++) {
      const ceiling = Math.min(JOB_BACKOFF_MAX_MS, 250 * 2 ** (n - 1));
      const waits = Array.from({ length: 50 }, () => jobBackoffMs(n));
      expect(Math.min(...waits)).toBeGreaterThanOrEqual(ceiling / 2 - 1);
      expect(Math.max(...waits)).toBeLessThanOrEqual(ceiling);
    }
    expect(new Set(Array.from({ length: 50 }, () => jobBackoffMs(10))).size).toBeGreaterThan(1);
  });
});
