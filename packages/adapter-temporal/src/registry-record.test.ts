import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { StageError, createMemoryBlobStore, definePipeline, defineStage, hashReviewToken, type ReviewNotice } from '@baton/core';
import { auditRunRecord, createPgliteRegistry, createRegistryObserver, type RegistryObserver, type RunRegistry } from '@baton/registry';
import type { WorkflowBundle } from '@temporalio/worker';
import { bundleBatonWorkflow, createTemporalEngine, createTemporalWorker, type TemporalEngine } from './index.js';
import { quietTemporalRuntime } from './test-support/quiet.js';

// Proves that a run on Temporal leaves a complete registry record: run row, one
// stage_attempt row per attempt (the throttled one included), the decided review, and a clean audit.
// Every event comes from the worker (workflow sink: run, steps, retries, decisions; activities:
// attempts, reviews opened), so the worker is what must get the observer: the engine's
// in-process worker gets the engine's, a separate worker takes its own `observer`.

quietTemporalRuntime();

const step = defineStage({
  name: 'rr-step',
  version: 1,
  input: z.object({ value: z.number() }),
  output: z.object({ value: z.number() }),
  async run(input) {
    return { value: input.value + 1 };
  },
});

/** Throttled on its first attempt for the item at `throttle`, then succeeds: one retry. */
const item = defineStage({
  name: 'rr-item',
  version: 1,
  input: z.object({ index: z.number(), value: z.number(), throttle: z.number() }),
  output: z.object({ index: z.number(), value: z.number() }),
  throws: ['ThrottlingException'],
  async run(input, ctx) {
    if (input.index === input.throttle && ctx.attempt === 1) throw new StageError('ThrottlingException', `item ${input.index} throttled`);
    return { index: input.index, value: input.value * 2 };
  },
});

const pipeline = definePipeline({ name: 'registry-record', version: 1, input: z.object({ value: z.number(), items: z.array(z.number()), throttle: z.number() }) })
  .task('prepare', step, { input: { 'value.$': '$.value' }, resultPath: '$.prepared' })
  .task('plan', step, { input: { 'value.$': '$.prepared.value' }, resultPath: '$.planned' })
  .map(
    'sections',
    { items: '$.items', itemSelector: { 'index.$': '$$.Map.Item.Index', 'value.$': '$$.Map.Item.Value', 'throttle.$': '$.throttle' }, maxConcurrency: 2, resultPath: '$.sections' },
    (b) => b.task('write', item, { retry: [{ errors: ['ThrottlingException'], intervalMs: 50, maxAttempts: 2 }] }),
  )
  .approval('review', { gate: 'review', timeoutSeconds: 300, payload: { 'sections.$': '$.sections' }, resultPath: '$.review' })
  .task('publish', step, { input: { 'value.$': '$.planned.value' }, resultPath: '$.published' })
  .build();

const ITEMS = [10, 20, 30, 40];
const THROTTLED = 2;

/** Every attempt the run must leave, as `stepPath#attempt:status`. */
const expectedAttempts = [
  'prepare#1:succeeded',
  'plan#1:succeeded',
  ...ITEMS.flatMap((_, i) => (i === THROTTLED ? [`sections[${i}]/write#1:failed`, `sections[${i}]/write#2:succeeded`] : [`sections[${i}]/write#1:succeeded`])),
  'publish#1:succeeded',
].sort();

async function until(ok: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

interface Scenario {
  engine: TemporalEngine;
  observer: RegistryObserver;
  notices: ReviewNotice[];
}

/** Runs the pipeline through its gate: waits for the review notice, approves it with the token. */
async function runApproved({ engine, observer, notices }: Scenario, registry: RunRegistry): Promise<{ runId: string; token: string }> {
  const { runId } = await engine.start('registry-record', { value: 1, items: ITEMS, throttle: THROTTLED });
  await until(() => notices.some((n) => n.runId === runId), 'the review notice');
  const notice = notices.find((n) => n.runId === runId)!;
  // the gate is open: once the observer caught up, the registry shows the run waiting at it
  await until(async () => (await observer.flush(), (await registry.getRun(runId))?.status === 'waiting'), 'the waiting run in the registry');
  expect(await registry.getRun(runId)).toMatchObject({ status: 'waiting', engine: 'temporal', pipeline: 'registry-record' });
  expect((await registry.pendingReviews()).filter((r) => r.runId === runId)).toEqual([
    expect.objectContaining({ gate: 'review', stepPath: 'review', tokenHash: hashReviewToken(notice.token) }),
  ]);
  // the notice and review-opened come from the review activity, before the workflow has recorded
  // the review: a decision is accepted once the workflow shows the gate open
  await until(async () => (await engine.status(runId)).pendingReviews.some((r) => r.gate === 'review'), 'the gate open in the workflow');
  await engine.approve(runId, 'review', { token: notice.token, reviewer: 'ann', comment: 'looks right' });
  expect(await engine.result(runId, { timeoutMs: 30_000 })).toMatchObject({ status: 'succeeded', output: { published: { value: 4 } } });
  // workflow sink calls reach the observer after the activation that made them: wait for the end
  await until(async () => (await observer.flush(), (await registry.getRun(runId))?.status === 'succeeded'), 'the finished run in the registry');
  return { runId, token: notice.token };
}

/** The registry holds the whole run: run row, steps, every attempt, the decided review; the audit is clean. */
async function expectCompleteRecord(registry: RunRegistry, engine: TemporalEngine, runId: string, token: string): Promise<void> {
  const run = (await registry.getRun(runId))!;
  expect(run).toMatchObject({ status: 'succeeded', engine: engine.name, pipeline: 'registry-record', execution: 1, executionId: expect.any(String) });
  expect(run.finishedAt).toBeDefined();

  // every attempt, including the failed throttled one, is a stage_attempt row
  expect(run.attempts.map((a) => `${a.stepPath}#${a.attempt}:${a.status}`).sort()).toEqual(expectedAttempts);
  for (const [i] of ITEMS.entries()) {
    expect(run.attempts.filter((a) => a.stepPath === `sections[${i}]/write`).every((a) => a.mapIndex === i && a.stage === 'rr-item')).toBe(true);
  }
  const throttled = run.attempts.find((a) => a.stepPath === `sections[${THROTTLED}]/write` && a.attempt === 1)!;
  expect(throttled.error).toMatchObject({ code: 'ThrottlingException', errorClass: 'model', retryable: true });
  expect(throttled.retryDelayMs).toEqual(expect.any(Number));
  expect(run.attempts.every((a) => a.finishedAt !== undefined)).toBe(true);
  // every step of every kind (the map, each map item's task, the gate) is a succeeded pipeline_step row
  expect(run.steps.map((s) => `${s.stepPath}:${s.kind}:${s.status}`).sort()).toEqual(
    [...[...new Set(expectedAttempts.map((a) => a.split('#')[0]))].map((p) => `${p}:task:succeeded`), 'sections:map:succeeded', 'review:approval:succeeded'].sort(),
  );
  for (const s of run.steps.filter((x) => x.stepPath.startsWith('sections['))) expect(s.mapIndex).toBe(Number(/\[(\d+)\]/.exec(s.stepPath)?.[1]));

  expect(await registry.getReview(runId, 'review')).toMatchObject({
    gate: 'review',
    stepPath: 'review',
    decision: 'approved',
    decidedBy: 'ann',
    comment: 'looks right',
    tokenHash: hashReviewToken(token),
    decidedAt: expect.any(String),
  });
  expect((await registry.pendingReviews()).filter((r) => r.runId === runId)).toEqual([]);

  // the audit against engine.status: status, engine, error, every attempt, steps, open reviews
  expect((await auditRunRecord(registry, engine, runId)).problems).toEqual([]);
}

describe('temporal leaves a complete registry record', () => {
  const address = inject('temporalAddress');
  let registry: RunRegistry;
  let workflowBundle: WorkflowBundle;
  const closers: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    registry = await createPgliteRegistry();
    workflowBundle = await bundleBatonWorkflow();
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await registry?.close();
  });

  it('with the engine\'s in-process worker: the run, every map item and attempt (the throttled one too), the approved review', async () => {
    const observer = createRegistryObserver(registry);
    const notices: ReviewNotice[] = [];
    const engine = createTemporalEngine({
      address,
      taskQueue: `registry-record-${randomUUID()}`,
      pipelines: [pipeline],
      blobs: createMemoryBlobStore(),
      workflowBundle,
      observer,
      notifier: (n) => void notices.push(n),
    });
    closers.push(() => engine.close());
    const { runId, token } = await runApproved({ engine, observer, notices }, registry);
    expect(observer.failures).toBe(0);
    await expectCompleteRecord(registry, engine, runId, token);
  });

  it('with a separate worker given the observer (the engine has none): the same complete record', async () => {
    const observer = createRegistryObserver(registry);
    const notices: ReviewNotice[] = [];
    const taskQueue = `registry-record-${randomUUID()}`;
    const engine = createTemporalEngine({ address, taskQueue, pipelines: [pipeline], worker: false });
    closers.push(() => engine.close());
    const worker = await createTemporalWorker({
      address,
      taskQueue,
      pipelines: [pipeline],
      blobs: createMemoryBlobStore(),
      workflowBundle,
      observer,
      notifier: (n) => void notices.push(n),
    });
    closers.push(async () => {
      await worker.shutdown();
      await worker.running.catch(() => undefined);
    });
    const { runId, token } = await runApproved({ engine, observer, notices }, registry);
    expect(observer.failures).toBe(0);
    await expectCompleteRecord(registry, engine, runId, token);
  });
});
