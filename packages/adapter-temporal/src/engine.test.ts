import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { createMemoryBlobStore, definePipeline, defineStage, type ReviewNotice, type RunEvent } from '@baton/core';
import { createProbeDir } from '@baton/core/testkit';
import { createTemporalEngine, type TemporalEngine } from './engine.js';
import { kitPipelines } from './test-support/kit.js';
import { testPipelines } from './test-support/pipelines.js';
import { quietTemporalRuntime } from './test-support/quiet.js';

quietTemporalRuntime();
const address = inject('temporalAddress');

/** Visibility (list) is eventually consistent: poll a bounded number of times. */
async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  let v = await read();
  for (let i = 0; i < 50 && !ok(v); i++) {
    await new Promise((r) => setTimeout(r, 100));
    v = await read();
  }
  return v;
}

describe('createTemporalEngine with its in-process worker', () => {
  const taskQueue = `engine-${randomUUID()}`;
  const events: RunEvent[] = [];
  const notices: ReviewNotice[] = [];
  let engine: TemporalEngine;

  beforeAll(() => {
    engine = createTemporalEngine({
      pipelines: [...kitPipelines, ...testPipelines],
      address,
      taskQueue,
      blobs: createMemoryBlobStore(),
      observer: (e) => {
        events.push(e);
      },
      notifier: (n) => {
        notices.push(n);
      },
    });
  });
  afterAll(async () => {
    await engine?.close();
  });

  it('reports every transition to the observer, in order, with the Temporal execution id', async () => {
    const { runId } = await engine.start('kit-sequence', { probe: createProbeDir(), value: 1, label: 'L' });
    expect((await engine.result(runId, { timeoutMs: 30_000 })).status).toBe('succeeded');
    await new Promise((r) => setTimeout(r, 200));
    const mine = events.filter((e) => e.runId === runId);
    expect(mine[0]).toMatchObject({ type: 'run-started', engine: 'temporal', pipeline: 'kit-sequence', executionId: expect.any(String) });
    expect(mine.at(-1)).toMatchObject({ type: 'run-finished', status: 'succeeded' });
    const kinds = mine.map((e) => `${e.type}:${'stepPath' in e ? e.stepPath : ''}`);
    for (const step of ['a', 'b', 'c']) {
      const order = ['step-started', 'attempt-started', 'attempt-finished', 'step-finished'].map((t) => kinds.indexOf(`${t}:${step}`));
      expect(
        order.every((i) => i >= 0),
        step,
      ).toBe(true);
      expect([...order].sort((x, y) => x - y)).toEqual(order);
    }
  });

  it('a decision sent the moment the reviewer is notified is not lost (the gate is recorded just after)', async () => {
    const decisions: Promise<void>[] = [];
    const auto: TemporalEngine = createTemporalEngine({
      pipelines: [...kitPipelines, ...testPipelines],
      address,
      taskQueue: `auto-${randomUUID()}`,
      blobs: createMemoryBlobStore(),
      notifier: (n) => {
        decisions.push(auto.approve(n.runId, n.gate, { token: n.token, reviewer: 'auto' }));
      },
    });
    try {
      const { runId } = await auto.start('kit-approval', { probe: createProbeDir() });
      const outcome = await auto.result(runId, { timeoutMs: 30_000 });
      await Promise.all(decisions);
      expect(decisions).toHaveLength(1);
      expect(outcome).toMatchObject({ status: 'succeeded', output: { review: { approved: true, reviewer: 'auto' } } });
    } finally {
      await auto.close();
    }
  });

  it('status shows a waiting run at its gate, lists it, and binds the gate to its reviewer', async () => {
    const { runId } = await engine.start('kit-safety', { probe: createProbeDir() });
    let info = await engine.status(runId);
    for (let i = 0; i < 200 && info.status !== 'waiting'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      info = await engine.status(runId);
    }
    expect(info).toMatchObject({ status: 'waiting', engine: 'temporal', pipeline: 'kit-safety' });
    expect(info.currentSteps).toContain('safety-review');
    expect(info.pendingReviews).toEqual([expect.objectContaining({ gate: 'safety', stepPath: 'safety-review', runId })]);
    expect(JSON.stringify(info)).not.toMatch(/tokenHash/);
    expect(info.attempts).toEqual([
      expect.objectContaining({ stepPath: 'generate', attempt: 1, status: 'failed', error: expect.objectContaining({ code: 'SafetyCheckFailed' }) }),
    ]);
    const listed = await eventually(
      () => engine.list({ pipeline: 'kit-safety' }),
      (rows) => rows.some((r) => r.runId === runId),
    );
    expect(listed.map((r) => r.runId)).toContain(runId);
    const notice = notices.find((n) => n.runId === runId)!;
    expect(notice.token.length).toBeGreaterThanOrEqual(32);
    await expect(engine.redrive(runId)).rejects.toThrow(/still in progress/);
    await engine.reject(runId, 'safety', { token: notice.token, reviewer: 'qa', comment: 'unsafe' });
    const outcome = await engine.result(runId, { timeoutMs: 30_000 });
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'ApprovalRejected' } });
    const done = await engine.status(runId);
    expect(done).toMatchObject({ status: 'failed', error: { code: 'ApprovalRejected' }, pendingReviews: [], currentSteps: [] });
    expect(done.finishedAt).toBeDefined();
    const failed = await eventually(
      () => engine.list({ status: 'failed', pipeline: 'kit-safety' }),
      (rows) => rows.some((r) => r.runId === runId),
    );
    expect(failed.map((r) => r.runId)).toContain(runId);
    // the run ended: the carried reviews say the token decided the gate already
    await expect(engine.approve(runId, 'safety', { token: notice.token })).rejects.toMatchObject({ code: 'ReviewTokenUsed' });
  });

  it('a second start with the same run id is idempotent; a succeeded run cannot be redriven', async () => {
    const runId = `idem-${randomUUID()}`;
    const probe = createProbeDir();
    await engine.start('kit-sequence', { probe, value: 1, label: 'L' }, { runId });
    await engine.start('kit-sequence', { probe, value: 1, label: 'L' }, { runId });
    expect(await engine.result(runId, { timeoutMs: 30_000 })).toMatchObject({ status: 'succeeded' });
    await engine.start('kit-sequence', { probe, value: 1, label: 'L' }, { runId });
    const rows = await eventually(
      () => engine.list({ pipeline: 'kit-sequence' }),
      (all) => all.some((r) => r.runId === runId && r.status === 'succeeded'),
    );
    expect(rows.filter((r) => r.runId === runId)).toEqual([expect.objectContaining({ status: 'succeeded', engine: 'temporal' })]);
    await expect(engine.redrive(runId)).rejects.toThrow(/has not failed/);
  });

  it('a run that failed on invalid input cannot be redriven', async () => {
    const { runId } = await engine.start('kit-strict-input', { probe: createProbeDir(), value: 'nope' });
    expect(await engine.result(runId, { timeoutMs: 30_000 })).toMatchObject({ status: 'failed', error: { code: 'InvalidInput' } });
    await expect(engine.redrive(runId)).rejects.toThrow(/start a new run with valid input/);
  });

  it("retries are workflow timers of the interpreter's delays; every stage activity has maximumAttempts 1", async () => {
    const { runId } = await engine.start('kit-retry', { probe: createProbeDir() });
    expect(await engine.result(runId, { timeoutMs: 30_000 })).toMatchObject({ status: 'succeeded', output: { flaky: { attempts: 3 } } });
    const { retries } = await engine.status(runId);
    const history = await (await engine.client()).workflow.getHandle(runId).fetchHistory();
    const ms = (d: { seconds?: unknown; nanos?: number | null } | null | undefined): number =>
      Number(d?.seconds ?? 0) * 1000 + Math.round((d?.nanos ?? 0) / 1e6);
    const timers = (history.events ?? []).flatMap((e) => (e.timerStartedEventAttributes ? [ms(e.timerStartedEventAttributes.startToFireTimeout)] : []));
    expect(retries.map((r) => r.attempt)).toEqual([1, 2]);
    expect(timers).toEqual(retries.map((r) => Math.round(r.delayMs)).filter((d) => d > 0));
    const scheduled = (history.events ?? []).flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes] : []));
    expect(scheduled).toHaveLength(3);
    for (const a of scheduled) {
      expect(a.activityType?.name).toBe('batonRunStage');
      expect(a.retryPolicy?.maximumAttempts).toBe(1);
    }
  });

  it('starts a pipeline object the engine was not created with, and its in-process worker runs it', async () => {
    const shout = defineStage({
      name: 'shout-only-here',
      version: 1,
      input: z.object({ text: z.string() }),
      output: z.object({ text: z.string() }),
      async run(input) {
        return { text: input.text.toUpperCase() };
      },
    });
    const extra = definePipeline({ name: 'extra-pipeline', version: 1 })
      .task('shout', shout, { input: { 'text.$': '$.text' }, resultPath: '$.shouted' })
      .build();
    const { runId } = await engine.start(extra, { text: 'hi' });
    expect(await engine.result(runId, { timeoutMs: 30_000 })).toMatchObject({ status: 'succeeded', output: { shouted: { text: 'HI' } } });
    expect((await engine.status(runId)).pipeline).toBe('extra-pipeline');
  });
});
