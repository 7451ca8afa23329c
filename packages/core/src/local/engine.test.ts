import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePipeline } from '../builder.js';
import { StageError } from '../errors.js';
import type { ReviewNotice } from '../engine.js';
import type { RunEvent } from '../observer.js';
import { createJsonLogger } from '../ports/logger.js';
import { defineStage } from '../stage.js';
import { createLocalEngine, type LocalEngine } from './engine.js';

const big = defineStage({
  name: 'big',
  version: 1,
  input: z.object({ bytes: z.number() }),
  output: z.object({ text: z.string() }),
  async run(input) {
    return { text: 'b'.repeat(input.bytes) };
  },
});
const tick = defineStage({
  name: 'tick',
  version: 1,
  input: z.unknown(),
  output: z.number(),
  async run(_input, ctx) {
    await new Promise((r) => setTimeout(r, 5));
    if (ctx.stepPath === 'broken') throw new StageError('Broken', 'broken step', { retryable: false });
    return 1;
  },
});

const bigPipeline = definePipeline({ name: 'big', version: 1 })
  .task('big', big, { input: { 'bytes.$': '$.bytes' } })
  .build();
const wide = definePipeline({ name: 'wide', version: 1 })
  .map('all', { items: '$' }, (b) => b.task('tick', tick))
  .build();
const broken = definePipeline({ name: 'broken', version: 1 }).task('broken', tick).build();
const slow = definePipeline({ name: 'slow', version: 1 }).wait('nap', { seconds: 3600 }).build();

let engine: LocalEngine | undefined;
afterEach(async () => {
  await engine?.close();
  engine = undefined;
});

describe('local engine', () => {
  it('emulating Step Functions fails an output over 256 KB that the claim check let through', async () => {
    engine = createLocalEngine({ pipelines: [bigPipeline], emulate: 'stepfunctions', claimCheckThreshold: 1024 * 1024 });
    const { runId } = await engine.start('big', { bytes: 300 * 1024 });
    const outcome = await engine.result(runId);
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'States.DataLimitExceeded' } });
    expect(outcome.status === 'failed' && outcome.error.message).toContain("over Step Functions' 256 KB state limit");
    const fine = createLocalEngine({ pipelines: [bigPipeline], emulate: 'stepfunctions' });
    const ok = await fine.start('big', { bytes: 300 * 1024 });
    expect((await fine.result(ok.runId)).status).toBe('succeeded');
    await fine.close();
  });

  it('a wide map does not trip the listener-leak warning on the engine signal', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w);
    };
    process.on('warning', onWarning);
    try {
      engine = createLocalEngine({ pipelines: [wide] });
      const { runId } = await engine.start(
        'wide',
        Array.from({ length: 40 }, (_, i) => i),
      );
      expect((await engine.result(runId)).status).toBe('succeeded');
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });

  it('result with a timeout fails with ResultTimedOut when the run does not end in time', async () => {
    engine = createLocalEngine({ pipelines: [slow] });
    const { runId } = await engine.start('slow', {});
    await expect(engine.result(runId, { timeoutMs: 20 })).rejects.toMatchObject({
      code: 'ResultTimedOut',
      retryable: true,
      message: `run "${runId}" did not end within 20 ms (it goes on; call result() again to wait more)`,
    });
    expect((await engine.status(runId)).status).toBe('running');
  });

  it('refuses unknown runs and pipelines and redrive of a run that has not failed', async () => {
    engine = createLocalEngine({ pipelines: [slow, broken] });
    await expect(engine.status('nope')).rejects.toMatchObject({ code: 'RunNotFound', message: 'unknown run "nope"' });
    await expect(engine.redrive('nope')).rejects.toMatchObject({ code: 'RunNotFound' });
    await expect(engine.start('nobody', {})).rejects.toMatchObject({
      code: 'PipelineNotFound',
      message: 'unknown pipeline "nobody"; this engine knows: slow, broken',
    });
    const running = await engine.start('slow', {});
    await expect(engine.redrive(running.runId)).rejects.toMatchObject({ code: 'RunNotRedrivable', message: expect.stringContaining('is still in progress') });
    const failed = await engine.start('broken', {});
    expect(await engine.result(failed.runId)).toMatchObject({ status: 'failed', error: { code: 'Broken' } });
    expect(await engine.result(failed.runId)).toMatchObject({ status: 'failed', error: { code: 'Broken' } });
    const ok = await engine.start(wide, [1]);
    await engine.result(ok.runId);
    await expect(engine.redrive(ok.runId)).rejects.toMatchObject({ code: 'RunNotRedrivable', message: expect.stringContaining('has not failed') });
  });

  it('lists runs filtered by status and pipeline; a start with a known run id is idempotent', async () => {
    engine = createLocalEngine({ pipelines: [slow, broken] });
    const a = await engine.start('slow', {}, { runId: 'run-a' });
    expect(await engine.start('slow', {}, { runId: 'run-a' })).toEqual(a);
    const b = await engine.start('broken', {}, { runId: 'run-b' });
    await engine.result(b.runId);
    expect((await engine.list()).map((r) => r.runId).sort()).toEqual(['run-a', 'run-b']);
    expect((await engine.list({ status: 'failed' })).map((r) => r.runId)).toEqual(['run-b']);
    expect((await engine.list({ pipeline: 'slow' })).map((r) => [r.runId, r.status, r.engine])).toEqual([['run-a', 'running', 'local']]);
  });

  it('retries a parallel step: the failed branch runs again as attempt 2, the completed branch is not re-run', async () => {
    const runs: string[] = [];
    const once = defineStage({
      name: 'once',
      version: 1,
      input: z.unknown(),
      output: z.string(),
      async run(_input, ctx) {
        runs.push(`${ctx.stepPath}#${ctx.attempt}`);
        if (ctx.stepPath.endsWith('/flaky') && ctx.attempt === 1) throw new StageError('ServiceUnavailableException', 'down');
        return ctx.stepPath;
      },
    });
    const p = definePipeline({ name: 'par', version: 1 })
      .parallel('both', { retry: [{ errors: ['ServiceUnavailableException'], intervalMs: 10 }] }, [(b) => b.task('steady', once), (b) => b.task('flaky', once)])
      .build();
    engine = createLocalEngine({ pipelines: [p] });
    const { runId } = await engine.start('par', {});
    expect(await engine.result(runId)).toEqual({ status: 'succeeded', output: ['both.0/steady', 'both.1/flaky'] });
    expect(runs.sort()).toEqual(['both.0/steady#1', 'both.1/flaky#1', 'both.1/flaky#2']);
    const info = await engine.status(runId);
    expect(info.retries).toEqual([{ stepPath: 'both', attempt: 1, code: 'ServiceUnavailableException', delayMs: 10, maxDelayMs: 10 }]);
  });

  it('an engine without the pipeline can approve a gate; the run resumes at the next recover of one that has it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-engine-'));
    const notices: ReviewNotice[] = [];
    const gated = definePipeline({ name: 'gated', version: 1 })
      .approval('review', { timeoutSeconds: 3600 })
      .task('after', tick, { resultPath: '$.after' })
      .build();
    const first = createLocalEngine({ pipelines: [gated], dir, notifier: (n) => void notices.push(n) });
    const { runId } = await first.start('gated', {});
    for (let i = 0; i < 100 && notices.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    first.crash();
    const approver = createLocalEngine({ pipelines: [], dir });
    await approver.approve(runId, 'review', { token: notices[0]!.token });
    expect((await approver.status(runId)).pendingReviews).toEqual([]);
    await approver.close();
    engine = createLocalEngine({ pipelines: [gated], dir });
    expect(await engine.recover()).toEqual([runId]);
    expect(await engine.result(runId)).toEqual({ status: 'succeeded', output: { approved: true, reviewer: null, comment: null, sections: {}, after: 1 } });
    rmSync(dir, { recursive: true, force: true });
  });

  it('a notice lost to a crash (gate journaled, notifier never returned) goes out again on recover with a new token; the lost token is void', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-engine-'));
    const gated = definePipeline({ name: 'gated', version: 1 })
      .approval('review', { timeoutSeconds: 3600 })
      .task('after', tick, { resultPath: '$.after' })
      .build();
    // the notifier is handed the token, then the process dies before it returns (the e-mail never left)
    let lost: ReviewNotice | undefined;
    const first = createLocalEngine({
      pipelines: [gated],
      dir,
      notifier: (n) => {
        lost = n;
        first.crash();
        return new Promise<void>(() => undefined);
      },
    });
    const { runId } = await first.start('gated', {});
    for (let i = 0; i < 200 && !lost; i++) await new Promise((r) => setTimeout(r, 5));
    expect(lost).toBeDefined();
    const notices: ReviewNotice[] = [];
    engine = createLocalEngine({ pipelines: [gated], dir, notifier: (n) => void notices.push(n) });
    expect(await engine.recover()).toEqual([runId]);
    for (let i = 0; i < 200 && notices.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ runId, gate: 'review', expiresAt: lost!.expiresAt });
    expect(notices[0]!.token).not.toBe(lost!.token);
    await expect(engine.approve(runId, 'review', { token: lost!.token })).rejects.toMatchObject({ code: 'ReviewTokenRejected' });
    await engine.approve(runId, 'review', { token: notices[0]!.token });
    expect(await engine.result(runId)).toMatchObject({ status: 'succeeded', output: { approved: true, after: 1 } });
    rmSync(dir, { recursive: true, force: true });
  });

  it('a delivered notice is not sent again when a waiting run is recovered', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-engine-'));
    const gated = definePipeline({ name: 'gated', version: 1 }).approval('review', { timeoutSeconds: 3600 }).build();
    const sent: ReviewNotice[] = [];
    const first = createLocalEngine({ pipelines: [gated], dir, notifier: (n) => void sent.push(n) });
    const { runId } = await first.start('gated', {});
    for (let i = 0; i < 200 && (await first.status(runId)).status !== 'waiting'; i++) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 20));
    first.crash();
    engine = createLocalEngine({ pipelines: [gated], dir, notifier: (n) => void sent.push(n) });
    expect(await engine.recover()).toEqual([runId]);
    await new Promise((r) => setTimeout(r, 50));
    expect(sent).toHaveLength(1);
    await engine.approve(runId, 'review', { token: sent[0]!.token });
    expect((await engine.result(runId)).status).toBe('succeeded');
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports every transition to the observer, and a failing observer breaks neither the run nor the log', async () => {
    const events: RunEvent[] = [];
    const lines: string[] = [];
    engine = createLocalEngine({
      pipelines: [broken],
      logger: createJsonLogger({ write: (l) => lines.push(l) }),
      observer: (e) => {
        events.push(e);
        throw new Error('observer down');
      },
    });
    const { runId } = await engine.start('broken', {});
    expect(await engine.result(runId)).toMatchObject({ status: 'failed' });
    await new Promise((r) => setImmediate(r));
    expect(events.map((e) => e.type)).toEqual(['run-started', 'step-started', 'attempt-started', 'attempt-finished', 'step-finished', 'run-finished']);
    expect(events.at(-1)).toMatchObject({ type: 'run-finished', runId, status: 'failed', error: { code: 'Broken' } });
    expect(lines.some((l) => l.includes('run observer failed') && l.includes('observer down'))).toBe(true);
  });
});

describe('a notifier that decides before it returns', () => {
  it('wakes the run at once instead of waiting for the gate to time out', async () => {
    const { kitApproval } = await import('../testkit/pipelines.js');
    const { createProbeDir } = await import('../testkit/probe.js');
    const engine: LocalEngine = createLocalEngine({
      pipelines: [kitApproval],
      notifier: async (n) => {
        await engine.approve(n.runId, n.gate, { token: n.token, reviewer: 'auto' });
      },
    });
    const { runId } = await engine.start('kit-approval', { probe: createProbeDir() });
    const outcome = await engine.result(runId, { timeoutMs: 1500 });
    expect(outcome).toMatchObject({ status: 'succeeded', output: { review: { approved: true, reviewer: 'auto' } } });
  });
});

describe('per-section review events', () => {
  it('review-opened names the sections, review-decided carries the verdicts; a refused decision emits nothing', async () => {
    const { kitReviewSections } = await import('../testkit/pipelines-review.js');
    const { createProbeDir } = await import('../testkit/probe.js');
    const events: RunEvent[] = [];
    const notices: ReviewNotice[] = [];
    const engine: LocalEngine = createLocalEngine({
      pipelines: [kitReviewSections],
      notifier: (n) => void notices.push(n),
      observer: (e) => void events.push(e),
    });
    const { runId } = await engine.start('kit-review-sections', { probe: createProbeDir(), ids: ['intro'] });
    while (notices.length === 0) await new Promise((r) => setTimeout(r, 10));
    await expect(engine.approve(runId, 'review', { token: notices[0]!.token, sections: { other: { verdict: 'approve' } } })).rejects.toMatchObject({
      code: 'InvalidInput',
    });
    const sections = { intro: { verdict: 'accept-missing' as const, note: 'no data yet' } };
    await engine.approve(runId, 'review', { token: notices[0]!.token, reviewer: 'ana', sections });
    expect(await engine.result(runId)).toMatchObject({ status: 'succeeded' });
    await new Promise((r) => setImmediate(r));
    expect(events.filter((e) => e.type === 'review-opened')).toMatchObject([{ gate: 'review', sections: ['intro'] }]);
    expect(events.filter((e) => e.type === 'review-decided')).toMatchObject([{ decision: 'approved', reviewer: 'ana', sections }]);
    await engine.close();
  });
});
