import { type ReviewNotice, type RunEvent } from '@baton/core';
import { hashReviewToken } from '@baton/core/engine';
import { createProbeDir, conformancePipelines } from '@baton/core/testkit';
import { describe, expect, it } from 'vitest';
import { estimateRunCost } from '../compile/limits.js';
import { createStepFunctionsLocalEngine } from './engine.js';

const kit = (name: string) => conformancePipelines.find((p) => p.name === name)!;

describe('stepfunctions-local engine', () => {
  it('runs the compiled machine and reports its state transitions (matching the static estimate)', async () => {
    const engine = createStepFunctionsLocalEngine({ pipelines: conformancePipelines });
    const { runId } = await engine.start('kit-sequence', { probe: createProbeDir(), value: 1, label: 'L' });
    expect((await engine.result(runId)).status).toBe('succeeded');
    expect(engine.transitions(runId)).toBe(3);
    expect(engine.transitions(runId)).toBe(estimateRunCost(engine.machine('kit-sequence').definition).transitions);
    const items = Array.from({ length: 12 }, (_, i) => i);
    const scale = await engine.start('kit-scale', { probe: createProbeDir(), items, delayMs: 0, failIndexes: [] });
    expect((await engine.result(scale.runId)).status).toBe('succeeded');
    expect(engine.transitions(scale.runId)).toBe(estimateRunCost(engine.machine('kit-scale').definition, { items: 12 }).transitions);
    const status = await engine.status(scale.runId);
    expect(status.attempts.filter((a) => a.status === 'succeeded')).toHaveLength(36);
    expect(status.attempts.map((a) => a.stepPath)).toContain('items[11]/third');
    expect((await engine.list({ pipeline: 'kit-scale' })).map((r) => r.runId)).toEqual([scale.runId]);
    await engine.close();
  });

  it('fails a task whose output exceeds 256 KB when no claim check keeps it small (emulate stepfunctions)', async () => {
    const engine = createStepFunctionsLocalEngine({ pipelines: [kit('kit-claim-check')], claimCheckThreshold: 10 * 1024 * 1024 });
    const { runId } = await engine.start('kit-claim-check', { probe: createProbeDir() });
    const outcome = await engine.result(runId);
    expect(outcome.status).toBe('failed');
    if (outcome.status === 'failed')
      expect(outcome.error).toMatchObject({ code: 'States.DataLimitExceeded', message: expect.stringMatching(/over the 256 KB state limit/) });
    await engine.close();
  });

  it('fails a STANDARD run whose history passes the limit (emulate stepfunctions)', async () => {
    const engine = createStepFunctionsLocalEngine({ pipelines: [kit('kit-scale')], historyLimit: 200 });
    const items = Array.from({ length: 50 }, (_, i) => i);
    const { runId } = await engine.start('kit-scale', { probe: createProbeDir(), items, delayMs: 0, failIndexes: [] });
    const outcome = await engine.result(runId);
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'States.Runtime', message: expect.stringMatching(/history passed 200 events/) } });
    await engine.close();
  });

  it('refuses to redrive a run that has not failed', async () => {
    const engine = createStepFunctionsLocalEngine({ pipelines: conformancePipelines });
    const { runId } = await engine.start('kit-sequence', { probe: createProbeDir(), value: 1, label: 'L' });
    expect((await engine.result(runId)).status).toBe('succeeded');
    await expect(engine.redrive(runId)).rejects.toThrow(/has not failed/);
    await engine.close();
  });

  it('reports run events to an observer: run, attempts, retries, reviews', async () => {
    const events: RunEvent[] = [];
    const notices: ReviewNotice[] = [];
    const engine = createStepFunctionsLocalEngine({
      pipelines: conformancePipelines,
      observer: (e) => void events.push(e),
      notifier: (n) => void notices.push(n),
    });
    const { runId } = await engine.start('kit-retry', { probe: createProbeDir() });
    expect((await engine.result(runId)).status).toBe('succeeded');
    const mine = events.filter((e) => e.runId === runId).map((e) => (e.type === 'attempt-finished' ? `${e.type}:${e.status}` : e.type));
    expect(mine).toEqual([
      'run-started',
      'step-started',
      'attempt-started',
      'attempt-finished:failed',
      'retry-scheduled',
      'attempt-started',
      'attempt-finished:failed',
      'retry-scheduled',
      'attempt-started',
      'attempt-finished:succeeded',
      'step-finished',
      'run-finished',
    ]);
    const gate = await engine.start('kit-approval', { probe: createProbeDir() });
    for (let i = 0; i < 100 && notices.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await engine.approve(gate.runId, 'review', { token: notices[0]!.token, reviewer: 'ann' });
    expect((await engine.result(gate.runId)).status).toBe('succeeded');
    const opened = events.find((e) => e.type === 'review-opened' && e.runId === gate.runId);
    expect(opened).toMatchObject({ gate: 'review', stepPath: 'review', tokenHash: hashReviewToken(notices[0]!.token) });
    expect(events.find((e) => e.type === 'review-decided' && e.runId === gate.runId)).toMatchObject({ decision: 'approved', reviewer: 'ann' });
    // no decision: the Task times out (ApprovalTimedOut) and the review expires
    const late = await engine.start('kit-approval', { probe: createProbeDir() });
    expect(await engine.result(late.runId)).toMatchObject({ status: 'failed', error: { code: 'ApprovalTimedOut' } });
    for (let i = 0; i < 50 && !events.some((e) => e.type === 'review-decided' && e.runId === late.runId); i++) await new Promise((r) => setTimeout(r, 20));
    expect(events.find((e) => e.type === 'review-decided' && e.runId === late.runId)).toMatchObject({ decision: 'timeout' });
    const lateNotice = notices.find((n) => n.runId === late.runId)!;
    await expect(engine.approve(late.runId, 'review', { token: lateNotice.token })).rejects.toThrow(/no open review/);
    await engine.close();
  });
});
