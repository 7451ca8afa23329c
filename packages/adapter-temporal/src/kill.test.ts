import { randomUUID } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ReviewNotice } from '@baton/core';
import { createProbeDir, readProbe, startCounts } from '@baton/core/testkit';
import { createTemporalEngine, type TemporalEngine } from './engine.js';
import { createWorkerProcesses, type WorkerProcesses } from './test-support/harness.js';
import { kitPipelines } from './test-support/kit.js';
import { testPipelines } from './test-support/pipelines.js';
import { quietTemporalRuntime } from './test-support/quiet.js';
import type { RunStageRequest } from './workflow/contract.js';

quietTemporalRuntime();
const address = inject('temporalAddress');

describe('a worker process killed with SIGKILL in the middle of a map', () => {
  const taskQueue = `kill-${randomUUID()}`;
  let workers: WorkerProcesses;
  let engine: TemporalEngine;

  beforeAll(async () => {
    workers = await createWorkerProcesses({ address, taskQueue });
    engine = createTemporalEngine({
      pipelines: [...kitPipelines, ...testPipelines],
      address,
      taskQueue,
      worker: false,
      activity: { heartbeatTimeoutMs: 3000 },
    });
  });
  afterAll(async () => {
    await workers?.stop();
    await engine?.close();
  });

  it('a new worker finishes the run and no completed activity runs again', { timeout: 120_000 }, async () => {
    await workers.start();
    const firstPid = workers.pid;
    const probe = createProbeDir();
    const items = Array.from({ length: 60 }, (_, i) => i);
    const { runId } = await engine.start('test-map', { probe, items, delayMs: 150, failIndexes: [] });
    for (;;) {
      if (readProbe(probe).filter((e) => e.event === 'end').length >= 20) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await workers.kill();
    const atKill = readProbe(probe);
    // completed = recorded by the server; a stage that ended but whose completion the kill lost may run twice
    const completedBefore = await completedItems(engine, runId);
    const inFlight = new Set(atKill.filter((e) => e.event === 'start' && !completedBefore.has(e.key)).map((e) => e.key));
    // how many of the 20 ended stages the server recorded before the kill depends on load; the test
    // needs only that some were recorded and some were not
    expect(completedBefore.size).toBeGreaterThan(0);
    expect(completedBefore.size).toBeLessThan(items.length);

    await workers.start();
    expect(workers.pid).not.toBe(firstPid);
    const outcome = await engine.result(runId, { timeoutMs: 90_000 });
    expect(outcome.status).toBe('succeeded');
    const results = (outcome as { output: { results: { status: string; output: { index: number; value: number } }[] } }).output.results;
    expect(results.map((r) => r.output.value)).toEqual(items.map((i) => i * 2));

    const events = readProbe(probe);
    const counts = startCounts(events, 'kit-item');
    expect(counts.size).toBe(items.length);
    for (const key of completedBefore) expect(counts.get(key), key).toBe(1);
    for (const key of inFlight) expect(counts.get(key), key).toBeLessThanOrEqual(2);
    for (const [key, n] of counts) if (!completedBefore.has(key) && !inFlight.has(key)) expect(n, key).toBe(1);
    // work after the kill was done by the new process only
    const afterKill = events.slice(atKill.length);
    expect(new Set(afterKill.map((e) => e.pid)).size).toBe(1);
    expect(afterKill.every((e) => e.pid !== firstPid)).toBe(true);
  });
});

/** Keys (`item-<index>`) of the map items whose stage activity completion is in the run's history. */
async function completedItems(engine: TemporalEngine, runId: string): Promise<Set<string>> {
  const history = await (await engine.client()).workflow.getHandle(runId).fetchHistory();
  const indexBySchedule = new Map<string, number>();
  const done = new Set<string>();
  for (const e of history.events ?? []) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) {
      const [req] = (scheduled.input?.payloads ?? []).map((p) => defaultPayloadConverter.fromPayload<RunStageRequest>(p));
      const index = (req?.input as { index?: number } | undefined)?.index;
      if (typeof index === 'number') indexBySchedule.set(String(e.eventId), index);
    }
    const completed = e.activityTaskCompletedEventAttributes;
    if (completed) {
      const index = indexBySchedule.get(String(completed.scheduledEventId));
      if (index !== undefined) done.add(`item-${index}`);
    }
  }
  return done;
}

describe('a worker stopped gracefully while a stage outlives the grace time', () => {
  const taskQueue = `stop-${randomUUID()}`;
  let workers: WorkerProcesses;
  let engine: TemporalEngine;

  beforeAll(async () => {
    workers = await createWorkerProcesses({ address, taskQueue, shutdownGrace: '500ms' });
    engine = createTemporalEngine({ pipelines: kitPipelines, address, taskQueue, worker: false, activity: { heartbeatTimeoutMs: 3000 } });
  });
  afterAll(async () => {
    await workers?.stop();
    await engine?.close();
  });

  it('the interrupted attempt is not a stage failure: the next worker runs the same attempt again', { timeout: 120_000 }, async () => {
    await workers.start();
    const probe = createProbeDir();
    const { runId } = await engine.start('kit-crash', { probe, value: 0, delayMs: 2500 });
    for (;;) {
      if (readProbe(probe).some((e) => e.event === 'start' && e.key === 's1')) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await workers.stop();
    expect(readProbe(probe).filter((e) => e.event === 'end')).toHaveLength(1);
    await workers.start();
    const outcome = await engine.result(runId, { timeoutMs: 90_000 });
    expect(outcome).toMatchObject({ status: 'succeeded', output: { s6: { value: 6 } } });
    const starts = readProbe(probe).filter((e) => e.event === 'start');
    expect(starts.filter((e) => e.key === 's1').map((e) => e.attempt)).toEqual([1, 1]);
    expect(starts.filter((e) => e.key !== 's1').every((e) => e.attempt === 1)).toBe(true);
    const info = await engine.status(runId);
    expect(info.attempts.filter((a) => a.status !== 'succeeded')).toEqual([]);
    expect(info.retries).toEqual([]);
  });
});

describe('a worker killed while a run waits at an approval gate', () => {
  const taskQueue = `gate-${randomUUID()}`;
  const notices: ReviewNotice[] = [];
  let workers: WorkerProcesses;
  let engine: TemporalEngine;

  beforeAll(async () => {
    workers = await createWorkerProcesses({ address, taskQueue, notifier: (n) => void notices.push(n) });
    engine = createTemporalEngine({ pipelines: kitPipelines, address, taskQueue, worker: false, activity: { heartbeatTimeoutMs: 3000 } });
  });
  afterAll(async () => {
    await workers?.stop();
    await engine?.close();
  });

  it('the gate survives: the token from before the kill approves it on the next worker, nothing re-runs', { timeout: 120_000 }, async () => {
    await workers.start();
    const probe = createProbeDir();
    const { runId } = await engine.start('kit-safety', { probe });
    for (let i = 0; i < 400 && (await engine.status(runId)).pendingReviews.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    const notice = notices.find((n) => n.runId === runId)!;
    expect(notice).toBeDefined();
    await workers.kill();
    await workers.start();
    await engine.approve(runId, 'safety', { token: notice.token, reviewer: 'alice' });
    expect(await engine.result(runId, { timeoutMs: 60_000 })).toMatchObject({ status: 'succeeded', output: { review: { approved: true, reviewer: 'alice' } } });
    expect(notices.filter((n) => n.runId === runId)).toHaveLength(1);
    expect([...startCounts(readProbe(probe)).values()]).toEqual([1]);
  });
});

describe('a worker killed after notifying a reviewer but before the gate was recorded', () => {
  const taskQueue = `gate-lost-${randomUUID()}`;
  const notices: ReviewNotice[] = [];
  let workers: WorkerProcesses;
  let engine: TemporalEngine;

  beforeAll(async () => {
    workers = await createWorkerProcesses({ address, taskQueue, notifier: (n) => void notices.push(n) });
    engine = createTemporalEngine({
      pipelines: kitPipelines,
      address,
      taskQueue,
      worker: false,
      activity: { heartbeatTimeoutMs: 3000, plumbingTimeoutMs: 3000 },
    });
  });
  afterAll(async () => {
    await workers?.stop();
    await engine?.close();
  });

  it('the review activity is retried: a fresh token is notified and only it approves', { timeout: 120_000 }, async () => {
    await workers.start();
    const probe = createProbeDir();
    const { runId } = await engine.start('kit-safety', { probe });
    for (let i = 0; i < 400 && !notices.some((n) => n.runId === runId); i++) await new Promise((r) => setTimeout(r, 5));
    await workers.kill();
    await workers.start();
    let info = await engine.status(runId);
    for (let i = 0; i < 600 && info.pendingReviews.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      info = await engine.status(runId);
    }
    expect(info.pendingReviews).toHaveLength(1);
    const mine = notices.filter((n) => n.runId === runId);
    const latest = mine.at(-1)!;
    if (mine.length > 1) {
      // the kill beat the activity's completion: the first token was never recorded
      await expect(engine.approve(runId, 'safety', { token: mine[0]!.token })).rejects.toThrow(/token rejected/);
    }
    await engine.approve(runId, 'safety', { token: latest.token, reviewer: 'bob' });
    expect(await engine.result(runId, { timeoutMs: 60_000 })).toMatchObject({ status: 'succeeded', output: { review: { approved: true, reviewer: 'bob' } } });
    expect([...startCounts(readProbe(probe)).values()]).toEqual([1]);
  });
});
