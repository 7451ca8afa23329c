import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { StageError, definePipeline, defineStage, hashReviewToken, type ReviewNotice } from '@baton/core';
import { auditRunRecord, createPgliteRegistry, createRegistryObserver, type RegistryObserver, type RunRegistry } from '@baton/registry';
import { createStepFunctionsLocalEngine, type StepFunctionsLocalEngine } from './index.js';

// Proves that a run on stepfunctions-local leaves a complete registry record: run row, one
// stage_attempt row per attempt (the throttled one included), the decided review, and a clean audit.

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

describe.each(['function-arn', 'invoke'] as const)('stepfunctions-local (%s task integration) leaves a complete registry record', (lambdaIntegration) => {
  let registry: RunRegistry;
  let observer: RegistryObserver;
  let engine: StepFunctionsLocalEngine;
  const notices: ReviewNotice[] = [];

  beforeAll(async () => {
    registry = await createPgliteRegistry();
    observer = createRegistryObserver(registry);
    engine = createStepFunctionsLocalEngine({ pipelines: [pipeline], observer, notifier: (n) => void notices.push(n), compile: { lambdaIntegration } });
  }, 60_000); // PGlite starts in seconds on a loaded 2-core machine
  afterAll(async () => {
    await engine?.close();
    await registry?.close();
  });

  it('records the run, every map item and attempt (the throttled one too) and the approved review', async () => {
    const { runId } = await engine.start('registry-record', { value: 1, items: ITEMS, throttle: THROTTLED });

    // the gate opens: the registry shows the run waiting with an open review row
    await until(() => notices.some((n) => n.runId === runId), 'the review notice');
    const notice = notices.find((n) => n.runId === runId)!;
    await observer.flush();
    const waiting = await registry.getRun(runId);
    expect(waiting).toMatchObject({ status: 'waiting', engine: 'stepfunctions-local', pipeline: 'registry-record' });
    expect((await registry.pendingReviews()).filter((r) => r.runId === runId)).toEqual([
      expect.objectContaining({ gate: 'review', stepPath: 'review', tokenHash: hashReviewToken(notice.token) }),
    ]);

    await engine.approve(runId, 'review', { token: notice.token, reviewer: 'ann', comment: 'looks right' });
    const outcome = await engine.result(runId, { timeoutMs: 30_000 });
    expect(outcome).toMatchObject({ status: 'succeeded', output: { published: { value: 4 } } });
    await observer.flush();
    expect(observer.failures).toBe(0);

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

    // the review row is decided
    expect(await registry.getReview(runId, 'review')).toMatchObject({
      gate: 'review',
      stepPath: 'review',
      decision: 'approved',
      decidedBy: 'ann',
      comment: 'looks right',
      tokenHash: hashReviewToken(notice.token),
      decidedAt: expect.any(String),
    });
    expect((await registry.pendingReviews()).filter((r) => r.runId === runId)).toEqual([]);

    // the audit against engine.status: every step and attempt of the run is recorded; task steps
    // come from the Baton task bindings (the approval gate is a review row, checked above)
    const audit = await auditRunRecord(registry, engine, runId);
    expect(audit.problems).toEqual([]);
    const stepPaths = [...new Set(expectedAttempts.map((a) => a.split('#')[0]!))].sort();
    expect(run.steps.filter((st) => st.kind === 'task').map((st) => `${st.stepPath}:${st.status}`).sort()).toEqual(stepPaths.map((p) => `${p}:succeeded`));
  }, 60_000);
});
