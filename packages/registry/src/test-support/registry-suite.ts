import { createLocalEngine, type ReviewNotice, type RunEvent } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { auditRunRecord } from '../audit.js';
import { migrate } from '../migrate.js';
import { createRegistryObserver } from '../observer.js';
import { createSqlRegistry } from '../sql-registry.js';
import type { SqlClient } from '../sql.js';
import type { RunDetail, RunRegistry } from '../types.js';
import { fixedModel, redrivePipeline, reportPipeline, setOutage } from './report-pipeline.js';

/** Opens a client on an empty schema named `schema`. */
export type OpenClient = (schema: string) => Promise<SqlClient>;

let counter = 0;

/** A schema name no other test of this process uses. */
export function schemaName(): string {
  return `t_${process.pid}_${Date.now().toString(36)}_${counter++}`;
}

/**
 * The one suite every registry implementation passes (PostgreSQL and PGlite): the same events
 * in, the same rows and query answers out.
 */
export function registrySuite(label: string, open: OpenClient): void {
  const fresh = async (): Promise<{ client: SqlClient; registry: RunRegistry }> => {
    const client = await open(schemaName());
    return { client, registry: await createSqlRegistry(client) };
  };

  describe(`run registry on ${label}`, () => {
    it('applies the versioned migrations once', async () => {
      const { client, registry } = await fresh();
      expect(await migrate(client)).toEqual([]);
      const versions = await client.query<{ version: number }>('SELECT version FROM baton_schema_migrations ORDER BY version');
      expect(versions.map((v) => v.version)).toEqual([1, 2, 3, 4, 5]);
      const tables = await client.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name`,
      );
      expect(tables.map((t) => t.table_name)).toEqual([
        'baton_schema_migrations',
        'pending_review',
        'pipeline_run',
        'pipeline_step',
        'review_decision',
        'stage_attempt',
      ]);
      await registry.close();
    });

    it('lets several processes migrate the same schema at once', async () => {
      const schema = schemaName();
      const [a, b, c] = await Promise.all([open(schema), open(schema), open(schema)]);
      const applied = await Promise.all([migrate(a!), migrate(b!), migrate(c!)]);
      expect(applied.flat()).toEqual([1, 2, 3, 4, 5]);
      await Promise.all([a!.close(), b!.close(), c!.close()]);
    });

    it('records a run at every transition: steps, attempts, retries, tokens, reviews', async () => {
      const { registry } = await fresh();
      for (const e of lifecycle('run-1')) await registry.apply(e);
      const run = await registry.getRun('run-1');
      expect(run).toMatchObject({
        runId: 'run-1',
        pipeline: 'report',
        engine: 'bullmq',
        executionId: 'job-9',
        status: 'succeeded',
        inputTokens: 300,
        outputTokens: 120,
        modelCalls: 3,
        finishedAt: '2026-11-23T10:05:00.000Z',
        outputRef: { document: 'ok' },
      });
      expect(run?.currentStep).toBeUndefined();
      expect(run?.steps.map((s) => [s.stepPath, s.kind, s.status, s.mapIndex ?? null])).toEqual([
        ['sections', 'map', 'succeeded', null],
        ['sections[0]/write', 'task', 'succeeded', 0],
        ['sections[1]/write', 'task', 'succeeded', 1],
        ['review', 'approval', 'succeeded', null],
      ]);
      expect(run?.steps[0]?.durationMs).toBe(120_000);
      expect(run?.attempts.map((a) => [a.stepPath, a.attempt, a.status, a.error?.code ?? null, a.error?.errorClass ?? null, a.retryDelayMs ?? null])).toEqual([
        ['sections[0]/write', 1, 'succeeded', null, null, null],
        ['sections[1]/write', 1, 'failed', 'ThrottlingException', 'model', 750],
        ['sections[1]/write', 2, 'succeeded', null, null, null],
      ]);
      expect(run?.attempts[1]).toMatchObject({ mapIndex: 1, latencyMs: 1500, inputTokens: 100, startedAt: '2026-11-23T10:01:00.000Z' });
      expect(run?.reviews).toEqual([
        {
          runId: 'run-1',
          gate: 'editor',
          stepPath: 'review',
          reviewer: 'ana',
          payload: { sections: ['a', 'b'] },
          tokenHash: 'ab12',
          createdAt: '2026-11-23T10:03:00.000Z',
          expiresAt: '2026-11-24T10:03:00.000Z',
          decidedAt: '2026-11-23T10:04:00.000Z',
          decision: 'approved',
          decidedBy: 'ana',
          comment: 'fine <b>work</b>',
        },
      ]);
      await registry.close();
    });

    it('is idempotent: replayed events leave the same rows and count tokens once', async () => {
      const { registry } = await fresh();
      const events = lifecycle('run-2');
      for (const e of events) await registry.apply(e);
      const once = await registry.getRun('run-2');
      for (const e of events) await registry.apply(e);
      expect(await registry.getRun('run-2')).toEqual(once);
      await registry.close();
    });

    it('ends in the same state when workers deliver events out of order or before run-started', async () => {
      const { registry } = await fresh();
      for (const e of lifecycle('ordered')) await registry.apply(e);
      const events = lifecycle('shuffled');
      const first = events.shift()!; // run-started arrives last
      const swapped: RunEvent[] = [];
      for (const e of events) {
        // every finish before its start
        const i = swapped.findIndex(
          (p) => (p.type === 'attempt-started' || p.type === 'step-started') && e.type === p.type.replace('started', 'finished') && sameKey(p, e),
        );
        if (i >= 0) swapped.splice(i, 0, e);
        else swapped.push(e);
      }
      for (const e of [...swapped, first]) await registry.apply(e);
      // a straggler from before the end must not reopen the run
      await registry.apply({ type: 'step-started', runId: 'shuffled', stepPath: 'sections[0]/write', kind: 'task', at: '2026-11-23T10:00:31.000Z' });
      const strip = (r: RunDetail | undefined): unknown => ({
        ...r,
        runId: undefined,
        updatedAt: undefined,
        steps: r?.steps.map((s) => ({ ...s, runId: undefined })).sort((a, b) => a.stepPath.localeCompare(b.stepPath)),
        attempts: r?.attempts.map((a) => ({ ...a, runId: undefined })).sort((a, b) => `${a.stepPath}#${a.attempt}`.localeCompare(`${b.stepPath}#${b.attempt}`)),
        reviews: r?.reviews.map((v) => ({ ...v, runId: undefined })),
      });
      expect(strip(await registry.getRun('shuffled'))).toEqual(strip(await registry.getRun('ordered')));
      await registry.close();
    });

    it('shows a waiting run, its current step and time in state, then resumes it', async () => {
      const { registry } = await fresh();
      const events = lifecycle('run-3');
      const opened = events.findIndex((e) => e.type === 'review-opened');
      for (const e of events.slice(0, opened + 1)) await registry.apply(e);
      const [flight] = await registry.runsInFlight({ now: new Date('2026-11-23T10:03:30.000Z') });
      expect(flight).toEqual({
        runId: 'run-3',
        pipeline: 'report',
        engine: 'bullmq',
        status: 'waiting',
        currentStep: 'review',
        runningSteps: ['review'],
        statusSince: '2026-11-23T10:03:00.000Z',
        timeInStateMs: 30_000,
        timeInStepMs: 30_000,
      });
      expect((await registry.pendingReviews()).map((r) => [r.runId, r.gate])).toEqual([['run-3', 'editor']]);
      await registry.apply(events[opened + 1]!);
      expect((await registry.getRun('run-3'))?.status).toBe('running');
      expect(await registry.pendingReviews()).toEqual([]);
      expect((await registry.getReview('run-3', 'editor'))?.decision).toBe('approved');
      for (const e of events.slice(opened + 2)) await registry.apply(e);
      expect(await registry.runsInFlight()).toEqual([]);
      await registry.close();
    });

    it('lists runs filtered by status, pipeline and engine, newest first', async () => {
      const { registry } = await fresh();
      await registry.apply(started('a', 'report', 'local', '2026-11-23T09:00:00.000Z'));
      await registry.apply(started('b', 'report', 'temporal', '2026-11-23T09:01:00.000Z'));
      await registry.apply(started('c', 'invoice', 'local', '2026-11-23T09:02:00.000Z'));
      await registry.apply({ type: 'run-finished', runId: 'a', status: 'succeeded', output: 1, at: '2026-11-23T09:03:00.000Z' });
      expect((await registry.listRuns()).map((r) => r.runId)).toEqual(['c', 'b', 'a']);
      expect((await registry.listRuns({ status: 'running' })).map((r) => r.runId)).toEqual(['c', 'b']);
      expect((await registry.listRuns({ pipeline: 'report' })).map((r) => r.runId)).toEqual(['b', 'a']);
      expect((await registry.listRuns({ engine: 'local', status: 'running' })).map((r) => r.runId)).toEqual(['c']);
      expect((await registry.listRuns({ limit: 1 })).map((r) => r.runId)).toEqual(['c']);
      await registry.close();
    });

    it('counts failures by class this week, attempts and runs', async () => {
      const { registry } = await fresh();
      const fail = (runId: string, path: string, stage: string, code: string, at: string): RunEvent[] => [
        { type: 'attempt-started', runId, stepPath: path, stage, attempt: 1, at },
        { type: 'attempt-finished', runId, stepPath: path, stage, attempt: 1, status: 'failed', error: { code, message: code, retryable: false }, at },
      ];
      await registry.apply(started('w1', 'report', 'local', '2026-11-24T08:00:00.000Z'));
      for (const e of [
        ...fail('w1', 'gen', 'generate', 'ThrottlingException', '2026-11-24T08:01:00.000Z'),
        ...fail('w1', 'val', 'validate', 'ValidationFailed', '2026-11-24T08:02:00.000Z'),
        ...fail('w1', 'safe', 'generate', 'SafetyCheckFailed', '2026-11-24T08:03:00.000Z'),
        ...fail('w1', 'asm', 'assemble', 'StageFailed', '2026-11-24T08:04:00.000Z'),
        ...fail('w1', 'net', 'notify', 'States.Timeout', '2026-11-24T08:05:00.000Z'),
        // last week: outside the window
        ...fail('w1', 'old', 'generate', 'ThrottlingException', '2026-11-20T08:05:00.000Z'),
      ]) {
        await registry.apply(e);
      }
      await registry.apply({
        type: 'run-finished',
        runId: 'w1',
        status: 'failed',
        error: { code: 'SafetyCheckFailed', message: 'x', retryable: false },
        at: '2026-11-24T08:06:00.000Z',
      });
      const counts = await registry.failuresByClass({ now: new Date('2026-11-26T12:00:00.000Z') });
      expect(counts).toEqual([
        { errorClass: 'model', failedAttempts: 1, failedRuns: 0 },
        { errorClass: 'validation', failedAttempts: 1, failedRuns: 0 },
        { errorClass: 'safety', failedAttempts: 1, failedRuns: 1 },
        { errorClass: 'assembly', failedAttempts: 1, failedRuns: 0 },
        { errorClass: 'infrastructure', failedAttempts: 1, failedRuns: 0 },
      ]);
      const lastWeek = await registry.failuresByClass({ since: new Date('2026-11-16T00:00:00.000Z'), now: new Date('2026-11-22T00:00:00.000Z') });
      expect(lastWeek.find((c) => c.errorClass === 'model')?.failedAttempts).toBe(1);
      expect((await registry.failuresByClass()).map((c) => c.errorClass)).toEqual(['model', 'validation', 'safety', 'assembly', 'infrastructure']);
      await registry.close();
    });

    it('reports token usage and cost per run', async () => {
      const { registry } = await fresh();
      for (const e of lifecycle('run-4')) await registry.apply(e);
      const [usage] = await registry.tokenUsage({ pricing: { inputUsdPerMillion: 3, outputUsdPerMillion: 15 }, runId: 'run-4' });
      expect(usage).toMatchObject({ runId: 'run-4', pipeline: 'report', status: 'succeeded', inputTokens: 300, outputTokens: 120, modelCalls: 3 });
      expect(usage?.costUsd).toBeCloseTo((300 * 3 + 120 * 15) / 1e6, 12);
      await registry.close();
    });

    it('stores hostile strings verbatim (parameterised SQL) and large values as a digest', async () => {
      const { registry } = await fresh();
      const runId = `x'); DROP TABLE pipeline_run; --`;
      await registry.apply({
        type: 'run-started',
        runId,
        pipeline: `p"'\\`,
        engine: 'local',
        input: { big: 'x'.repeat(40_000) },
        at: '2026-11-23T09:00:00.000Z',
      });
      const run = await registry.getRun(runId);
      expect(run?.pipeline).toBe(`p"'\\`);
      expect(run?.inputRef).toMatchObject({ $omitted: true, bytes: 40_010 });
      expect((await registry.listRuns()).length).toBe(1);
      await registry.close();
    });

    it('reopens a failed run when it is redriven', async () => {
      const { registry } = await fresh();
      await registry.apply(started('r', 'report', 'local', '2026-11-23T09:00:00.000Z'));
      await registry.apply({
        type: 'run-finished',
        runId: 'r',
        status: 'failed',
        error: { code: 'ThrottlingException', message: 'm', retryable: true },
        at: '2026-11-23T09:01:00.000Z',
      });
      expect(await registry.getRun('r')).toMatchObject({ status: 'failed', error: { code: 'ThrottlingException', errorClass: 'model' } });
      await registry.apply({ type: 'step-started', runId: 'r', stepPath: 'gen', kind: 'task', at: '2026-11-23T10:00:00.000Z' });
      const run = await registry.getRun('r');
      expect(run).toMatchObject({ status: 'running', currentStep: 'gen', statusSince: '2026-11-23T10:00:00.000Z' });
      expect(run?.error).toBeUndefined();
      expect(run?.finishedAt).toBeUndefined();
      await registry.close();
    });

    it('a run-redriven event reopens a failed run at once, counting the execution; a late one changes nothing', async () => {
      const { registry } = await fresh();
      await registry.apply(started('r', 'report', 'local', '2026-11-23T09:00:00.000Z'));
      await registry.apply({
        type: 'run-finished',
        runId: 'r',
        status: 'failed',
        error: { code: 'ThrottlingException', message: 'm', retryable: true },
        at: '2026-11-23T09:01:00.000Z',
      });
      await registry.apply({ type: 'run-redriven', runId: 'r', redrive: 1, at: '2026-11-23T10:00:00.000Z' });
      const run = await registry.getRun('r');
      expect(run).toMatchObject({ status: 'running', statusSince: '2026-11-23T10:00:00.000Z' });
      expect(run?.error).toBeUndefined();
      expect(run?.finishedAt).toBeUndefined();
      // the first step of the redrive does not count the execution twice
      await registry.apply({ type: 'step-started', runId: 'r', stepPath: 'gen', kind: 'task', at: '2026-11-23T10:00:01.000Z' });
      await registry.apply({ type: 'attempt-started', runId: 'r', stepPath: 'gen', stage: 'gen', attempt: 1, at: '2026-11-23T10:00:01.000Z' });
      expect((await registry.getRun('r'))?.attempts.map((a) => a.execution)).toEqual([2]);
      await registry.apply({
        type: 'run-finished',
        runId: 'r',
        status: 'failed',
        error: { code: 'ThrottlingException', message: 'm', retryable: true },
        at: '2026-11-23T10:05:00.000Z',
      });
      // a redrive event from before that failure (delivered late) leaves the run failed
      await registry.apply({ type: 'run-redriven', runId: 'r', redrive: 1, at: '2026-11-23T10:00:00.000Z' });
      expect(await registry.getRun('r')).toMatchObject({ status: 'failed' });
      await registry.close();
    });

    it('keeps the failed attempts of a redriven run next to the new ones', async () => {
      const { registry } = await fresh();
      const observer = createRegistryObserver(registry);
      const engine = createLocalEngine({ pipelines: [redrivePipeline], observer });
      setOutage(true);
      const { runId } = await engine.start('test-redrive', {});
      expect((await engine.result(runId)).status).toBe('failed');
      await observer.flush();
      expect(await registry.getRun(runId)).toMatchObject({ status: 'failed', error: { code: 'ServiceUnavailableException', errorClass: 'infrastructure' } });
      setOutage(false);
      await engine.redrive(runId);
      expect((await engine.result(runId)).status).toBe('succeeded');
      await observer.flush();
      const run = await registry.getRun(runId);
      expect(run?.status).toBe('succeeded');
      expect(run?.attempts.map((a) => `${a.stepPath}#${a.attempt}@${a.execution}:${a.status}`)).toEqual([
        'prepare#1@1:succeeded',
        'call#1@1:failed',
        'call#1@2:succeeded',
      ]);
      expect(await auditRunRecord(registry, engine, runId)).toEqual({ ok: true, problems: [] });
      await engine.close();
      await registry.close();
    });

    it('records every step and attempt of a real pipeline on the local engine', async () => {
      const { registry } = await fresh();
      const observer = createRegistryObserver(registry);
      const notices: ReviewNotice[] = [];
      const engine = createLocalEngine({ pipelines: [reportPipeline], model: fixedModel, observer, notifier: (n) => void notices.push(n) });
      const { runId } = await engine.start('test-report', { title: 'Q3', topics: ['revenue', 'risks', 'outlook'] });
      await until(async () => {
        await observer.flush();
        return (await registry.getRun(runId))?.status === 'waiting';
      });
      const waiting = await registry.getRun(runId);
      expect(waiting?.currentStep).toBe('review');
      expect(await auditRunRecord(registry, engine, runId)).toEqual({ ok: true, problems: [] });
      const [review] = await registry.pendingReviews();
      expect(review).toMatchObject({ runId, gate: 'editor', stepPath: 'review', payload: { title: 'Q3' } });
      expect(notices).toHaveLength(1);
      await engine.approve(runId, 'editor', { token: notices[0]!.token, reviewer: 'ana', comment: 'ok' });
      expect((await engine.result(runId)).status).toBe('succeeded');
      await observer.flush();
      const run = await registry.getRun(runId);
      const truth = await engine.status(runId);
      expect(run?.status).toBe('succeeded');
      expect(await auditRunRecord(registry, engine, runId)).toEqual({ ok: true, problems: [] });
      expect(run?.steps.map((s) => `${s.stepPath}:${s.kind}:${s.status}`).sort()).toEqual(
        [
          'outline:task:succeeded',
          'sections:map:succeeded',
          'sections[0]/write:task:succeeded',
          'sections[1]/write:task:succeeded',
          'sections[2]/write:task:succeeded',
          'review:approval:succeeded',
          'assemble:task:succeeded',
        ].sort(),
      );
      const key = (a: { stepPath: string; attempt: number; status: string }): string => `${a.stepPath}#${a.attempt}:${a.status}`;
      expect(run?.attempts.map(key).sort()).toEqual(truth.attempts.map(key).sort());
      expect(run?.attempts.map(key).sort()).toEqual(
        [
          'outline#1:succeeded',
          'sections[0]/write#1:succeeded',
          'sections[1]/write#1:failed',
          'sections[1]/write#2:succeeded',
          'sections[2]/write#1:succeeded',
          'assemble#1:succeeded',
        ].sort(),
      );
      expect(run?.attempts.find((a) => a.stepPath === 'sections[1]/write' && a.attempt === 1)).toMatchObject({
        error: { code: 'ThrottlingException', errorClass: 'model' },
        mapIndex: 1,
      });
      expect(run).toMatchObject({ inputTokens: 400, outputTokens: 160, modelCalls: 4 });
      expect(run?.reviews[0]).toMatchObject({ decision: 'approved', decidedBy: 'ana', comment: 'ok' });
      expect(observer.failures).toBe(0);
      await engine.close();
      await registry.close();
    });
  });
}

function sameKey(a: RunEvent, b: RunEvent): boolean {
  const key = (e: RunEvent): string => ('stepPath' in e ? e.stepPath : '') + '#' + ('attempt' in e ? String(e.attempt) : '');
  return key(a) === key(b);
}

function started(runId: string, pipeline: string, engine: string, at: string): RunEvent {
  return { type: 'run-started', runId, pipeline, engine, input: { runId }, at };
}

/** A complete run as an engine reports it: a map of two items (one retried) and a review gate. */
function lifecycle(runId: string): RunEvent[] {
  const t = (min: number, sec = 0): string => new Date(Date.UTC(2026, 10, 23, 10, min, sec)).toISOString();
  const metrics = { durationMs: 1500, modelCalls: 1, inputTokens: 100, outputTokens: 40, modelLatencyMs: 900 };
  return [
    { type: 'run-started', runId, pipeline: 'report', engine: 'bullmq', executionId: 'job-9', input: { title: 'Q3' }, at: t(0) },
    { type: 'step-started', runId, stepPath: 'sections', kind: 'map', at: t(0, 30) },
    { type: 'step-started', runId, stepPath: 'sections[0]/write', kind: 'task', at: t(0, 31) },
    { type: 'attempt-started', runId, stepPath: 'sections[0]/write', stage: 'generate', attempt: 1, at: t(0, 31) },
    { type: 'step-started', runId, stepPath: 'sections[1]/write', kind: 'task', at: t(1) },
    { type: 'attempt-started', runId, stepPath: 'sections[1]/write', stage: 'generate', attempt: 1, at: t(1) },
    { type: 'attempt-finished', runId, stepPath: 'sections[0]/write', stage: 'generate', attempt: 1, status: 'succeeded', metrics, at: t(1, 1) },
    { type: 'step-finished', runId, stepPath: 'sections[0]/write', kind: 'task', status: 'succeeded', at: t(1, 1) },
    {
      type: 'attempt-finished',
      runId,
      stepPath: 'sections[1]/write',
      stage: 'generate',
      attempt: 1,
      status: 'failed',
      error: { code: 'ThrottlingException', message: 'rate exceeded', retryable: true },
      metrics,
      at: t(1, 1.5),
    },
    { type: 'retry-scheduled', runId, stepPath: 'sections[1]/write', attempt: 1, code: 'ThrottlingException', delayMs: 750, at: t(1, 2) },
    { type: 'attempt-started', runId, stepPath: 'sections[1]/write', stage: 'generate', attempt: 2, at: t(2) },
    { type: 'attempt-finished', runId, stepPath: 'sections[1]/write', stage: 'generate', attempt: 2, status: 'succeeded', metrics, at: t(2, 20) },
    { type: 'step-finished', runId, stepPath: 'sections[1]/write', kind: 'task', status: 'succeeded', at: t(2, 20) },
    { type: 'step-finished', runId, stepPath: 'sections', kind: 'map', status: 'succeeded', at: t(2, 30) },
    { type: 'step-started', runId, stepPath: 'review', kind: 'approval', at: t(3) },
    {
      type: 'review-opened',
      runId,
      gate: 'editor',
      stepPath: 'review',
      reviewer: 'ana',
      payload: { sections: ['a', 'b'] },
      tokenHash: 'ab12',
      expiresAt: '2026-11-24T10:03:00.000Z',
      at: t(3),
    },
    { type: 'review-decided', runId, gate: 'editor', stepPath: 'review', decision: 'approved', reviewer: 'ana', comment: 'fine <b>work</b>', at: t(4) },
    { type: 'step-finished', runId, stepPath: 'review', kind: 'approval', status: 'succeeded', at: t(4) },
    { type: 'run-finished', runId, status: 'succeeded', output: { document: 'ok' }, at: t(5) },
  ];
}

async function until(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
