import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { StageError, createMemoryBlobStore, definePipeline, defineStage, hashReviewToken, type ReviewNotice } from '@baton/core';
import { auditRunRecord, createPgliteRegistry, createRegistryObserver, type RegistryObserver, type RunRegistry } from '@baton/registry';
import { createBullmqEngine, createBullmqWorker, type BullmqEngine, type BullmqWorker } from './index.js';

// Proves that a run on BullMQ + Redis leaves a complete registry record: run row, one
// stage_attempt row per attempt (the throttled one included), the decided review, and a clean
// audit. On BullMQ the engine reports run starts and decisions, the worker that ran a task
// reports its attempts, retries, reviews opened and the run's end: whichever worker executes
// tasks must have the observer too (the engine's in-process worker gets the engine's).

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
  engine: BullmqEngine;
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
  expect(await registry.getRun(runId)).toMatchObject({ status: 'waiting', engine: 'bullmq', pipeline: 'registry-record' });
  expect((await registry.pendingReviews()).filter((r) => r.runId === runId)).toEqual([
    expect.objectContaining({ gate: 'review', stepPath: 'review', tokenHash: hashReviewToken(notice.token) }),
  ]);
  await engine.approve(runId, 'review', { token: notice.token, reviewer: 'ann', comment: 'looks right' });
  expect(await engine.result(runId, { timeoutMs: 30_000 })).toMatchObject({ status: 'succeeded', output: { published: { value: 4 } } });
  await observer.flush();
  return { runId, token: notice.token };
}

/** The registry holds the whole run: run row, steps, every attempt, the decided review; the audit is clean. */
async function expectCompleteRecord(registry: RunRegistry, engine: BullmqEngine, runId: string, token: string): Promise<void> {
  const run = (await registry.getRun(runId))!;
  expect(run).toMatchObject({ status: 'succeeded', engine: engine.name, pipeline: 'registry-record', execution: 1 });
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
  // every task step (map items included) is a succeeded pipeline_step row; the worker emits step
  // events for tasks only, so the map and the gate have no pipeline_step row on this engine
  expect(run.steps.filter((s) => s.kind === 'task').map((s) => `${s.stepPath}:${s.status}`).sort()).toEqual(
    [...new Set(expectedAttempts.map((a) => a.split('#')[0]))].map((p) => `${p}:succeeded`).sort(),
  );

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

describe('bullmq leaves a complete registry record', () => {
  let registry: RunRegistry;
  const closers: (() => Promise<void>)[] = [];
  const prefix = (): string => `registry-record-${randomBytes(4).toString('hex')}`;
  const engineOf = (options: { prefix: string; observer: RegistryObserver; notices: ReviewNotice[]; worker: boolean }): BullmqEngine => {
    const engine = createBullmqEngine({
      connection: inject('redisUrl'),
      prefix: options.prefix,
      pipelines: [pipeline],
      blobs: createMemoryBlobStore(),
      observer: options.observer,
      notifier: (n) => void options.notices.push(n),
      worker: options.worker,
    });
    closers.push(() => engine.close());
    return engine;
  };
  const workerOf = (options: { prefix: string; observer?: RegistryObserver }): BullmqWorker => {
    const worker = createBullmqWorker({ connection: inject('redisUrl'), prefix: options.prefix, pipelines: [pipeline], blobs: createMemoryBlobStore(), ...(options.observer ? { observer: options.observer } : {}) });
    closers.push(() => worker.close());
    return worker;
  };

  beforeAll(async () => {
    registry = await createPgliteRegistry();
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await registry?.close();
  });

  it('with the engine\'s in-process worker: the run, every map item and attempt (the throttled one too), the approved review', async () => {
    const observer = createRegistryObserver(registry);
    const notices: ReviewNotice[] = [];
    const engine = engineOf({ prefix: prefix(), observer, notices, worker: true });
    await engine.worker!.ready;
    const { runId, token } = await runApproved({ engine, observer, notices }, registry);
    expect(observer.failures).toBe(0);
    await expectCompleteRecord(registry, engine, runId, token);
  });

  it('with a separate worker given the observer: the same complete record', async () => {
    const observer = createRegistryObserver(registry);
    const notices: ReviewNotice[] = [];
    const p = prefix();
    const engine = engineOf({ prefix: p, observer, notices, worker: false });
    await workerOf({ prefix: p, observer }).ready;
    const { runId, token } = await runApproved({ engine, observer, notices }, registry);
    expect(observer.failures).toBe(0);
    await expectCompleteRecord(registry, engine, runId, token);
  });

  it('the audit catches a worker that was not given the observer: every attempt is missing', async () => {
    const observer = createRegistryObserver(registry);
    const notices: ReviewNotice[] = [];
    const p = prefix();
    const engine = engineOf({ prefix: p, observer, notices, worker: false });
    await workerOf({ prefix: p }).ready;
    const { runId } = await engine.start('registry-record', { value: 1, items: ITEMS, throttle: THROTTLED });
    await until(() => notices.some((n) => n.runId === runId), 'the review notice');
    await engine.approve(runId, 'review', { token: notices.find((n) => n.runId === runId)!.token });
    expect((await engine.result(runId, { timeoutMs: 30_000 })).status).toBe('succeeded');
    await observer.flush();
    const run = (await registry.getRun(runId))!;
    expect(run.attempts).toEqual([]);
    const { problems } = await auditRunRecord(registry, engine, runId);
    expect(problems).toContain('status: registry running, engine succeeded');
    for (const a of expectedAttempts) expect(problems).toContain(`attempt missing from the registry: ${a}`);
  });
});
