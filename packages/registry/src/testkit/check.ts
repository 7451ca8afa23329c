import { expect } from 'vitest';
import { type Engine, type ReviewNotice } from '@baton/core';
import { hashReviewToken } from '@baton/core/engine';
import { auditRunRecord } from '../audit.js';
import type { RegistryObserver } from '../observer.js';
import type { RunRegistry } from '../types.js';
import { RECORD_INPUT, RECORD_ITEMS, RECORD_THROTTLED, expectedRecordAttempts } from './pipeline.js';

/** Polls until `ok` holds (about 6 s), else throws naming `what`. */
export async function until(ok: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** What {@link runApprovedRecord} drives: an engine whose observer writes `registry`, and the notices its notifier collects. */
export interface RecordScenario {
  engine: Engine;
  observer: RegistryObserver;
  registry: RunRegistry;
  notices: ReviewNotice[];
}

/**
 * Runs the record pipeline through its gate: waits for the notice, checks the registry shows the
 * run waiting with the hashed token, approves with the token and waits until the registry has the end.
 */
export async function runApprovedRecord({ engine, observer, registry, notices }: RecordScenario): Promise<{ runId: string; token: string }> {
  const { runId } = await engine.start('registry-record', RECORD_INPUT);
  await until(() => notices.some((n) => n.runId === runId), 'the review notice');
  const notice = notices.find((n) => n.runId === runId)!;
  await until(async () => (await observer.flush(), (await registry.getRun(runId))?.status === 'waiting'), 'the waiting run in the registry');
  expect(await registry.getRun(runId)).toMatchObject({ status: 'waiting', engine: engine.name, pipeline: 'registry-record' });
  expect((await registry.pendingReviews()).filter((r) => r.runId === runId)).toEqual([
    expect.objectContaining({ gate: 'review', stepPath: 'review', tokenHash: hashReviewToken(notice.token) }),
  ]);
  await engine.approve(runId, 'review', { token: notice.token, reviewer: 'ann', comment: 'looks right' });
  expect(await engine.result(runId, { timeoutMs: 30_000 })).toMatchObject({ status: 'succeeded', output: { published: { value: 4 } } });
  // some engines report the end from another process or after the activation that made it
  await until(async () => (await observer.flush(), (await registry.getRun(runId))?.status === 'succeeded'), 'the finished run in the registry');
  return { runId, token: notice.token };
}

/**
 * Asserts the registry holds the whole record run: the run row, a stage_attempt row per attempt
 * (the throttled one included, classified `model`), a succeeded pipeline_step row per task (with
 * `allStepKinds`, also the map and the gate), the decided review, and a clean audit against
 * `engine.status`.
 */
export async function expectCompleteRecord(
  registry: RunRegistry,
  engine: Engine,
  runId: string,
  token: string,
  options: { allStepKinds?: boolean } = {},
): Promise<void> {
  const run = (await registry.getRun(runId))!;
  expect(run).toMatchObject({ status: 'succeeded', engine: engine.name, pipeline: 'registry-record', execution: 1 });
  expect(run.finishedAt).toBeDefined();
  expect(run.attempts.map((a) => `${a.stepPath}#${a.attempt}:${a.status}`).sort()).toEqual(expectedRecordAttempts);
  for (const [i] of RECORD_ITEMS.entries()) {
    expect(run.attempts.filter((a) => a.stepPath === `sections[${i}]/write`).every((a) => a.mapIndex === i && a.stage === 'rr-item')).toBe(true);
  }
  const throttled = run.attempts.find((a) => a.stepPath === `sections[${RECORD_THROTTLED}]/write` && a.attempt === 1)!;
  expect(throttled.error).toMatchObject({ code: 'ThrottlingException', errorClass: 'model', retryable: true });
  expect(throttled.retryDelayMs).toEqual(expect.any(Number));
  expect(run.attempts.every((a) => a.finishedAt !== undefined)).toBe(true);
  const taskSteps = [...new Set(expectedRecordAttempts.map((a) => a.split('#')[0]!))].map((p) => `${p}:task:succeeded`);
  const steps = options.allStepKinds ? run.steps : run.steps.filter((s) => s.kind === 'task');
  expect(steps.map((s) => `${s.stepPath}:${s.kind}:${s.status}`).sort()).toEqual(
    (options.allStepKinds ? [...taskSteps, 'sections:map:succeeded', 'review:approval:succeeded'] : taskSteps).sort(),
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
  expect((await auditRunRecord(registry, engine, runId)).problems).toEqual([]);
}
