import type { RunEvent } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { createRegistryReviewStore, type TaskTokenReviewRecord, type TaskTokenReviewStore } from '../review-store.js';
import { createSqlRegistry } from '../sql-registry.js';
import type { SqlClient } from '../sql.js';
import type { RunRegistry } from '../types.js';
import { schemaName, type OpenClient } from './registry-suite.js';

const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:report:run-1';
const T0 = '2026-11-23T10:00:00.000Z';
const T1 = '2026-11-23T10:03:00.000Z';
const T2 = '2026-11-23T10:04:00.000Z';

/** A review as the Step Functions review gate puts it. */
export function taskTokenReview(overrides: Partial<TaskTokenReviewRecord> = {}): TaskTokenReviewRecord {
  return {
    runId: 'run-1',
    gate: 'editor',
    stepPath: 'review',
    reviewer: 'ana',
    payload: { sections: ['a', 'b'] },
    createdAt: T1,
    expiresAt: '2026-11-24T10:03:00.000Z',
    executionArn: ARN,
    tokenHash: 'hash-1',
    taskToken: 'TT-1',
    status: 'open',
    ...overrides,
  };
}

/** The task-token review store (`createRegistryReviewStore`) on every registry implementation. */
export function reviewStoreSuite(label: string, open: OpenClient): void {
  const fresh = async (): Promise<{ client: SqlClient; registry: RunRegistry; store: TaskTokenReviewStore }> => {
    const client = await open(schemaName());
    const registry = await createSqlRegistry(client);
    await registry.apply(runStarted('run-1'));
    await registry.apply({ type: 'step-started', runId: 'run-1', stepPath: 'review', kind: 'approval', at: T1 });
    return { client, registry, store: createRegistryReviewStore(registry) };
  };

  describe(`task-token review store on ${label}`, () => {
    it('migration 3 adds the label and task-token columns and their indexes', async () => {
      const { client, registry } = await fresh();
      const columns = await client.query<{ c: string }>(
        `SELECT table_name || '.' || column_name AS c FROM information_schema.columns
         WHERE table_schema = current_schema() AND column_name IN ('report_id', 'reviewer_id', 'execution_arn', 'task_token') ORDER BY 1`,
      );
      expect(columns.map((r) => r.c)).toEqual([
        'pending_review.execution_arn',
        'pending_review.task_token',
        'pipeline_run.report_id',
        'pipeline_run.reviewer_id',
      ]);
      const indexes = await client.query<{ indexname: string }>(
        `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND indexname IN ('pending_review_execution_idx', 'pipeline_run_report_idx') ORDER BY 1`,
      );
      expect(indexes.map((r) => r.indexname)).toEqual(['pending_review_execution_idx', 'pipeline_run_report_idx']);
      await registry.close();
    });

    it('put writes the row a review-opened event writes and puts the run in waiting', async () => {
      const { client, registry, store } = await fresh();
      await store.put(taskTokenReview());
      // the same gate reached on another engine, reported as an event
      await registry.apply(runStarted('run-2'));
      await registry.apply({ type: 'step-started', runId: 'run-2', stepPath: 'review', kind: 'approval', at: T1 });
      const r = taskTokenReview();
      await registry.apply({
        type: 'review-opened',
        runId: 'run-2',
        gate: r.gate,
        stepPath: r.stepPath,
        reviewer: 'ana',
        payload: r.payload,
        tokenHash: r.tokenHash,
        expiresAt: r.expiresAt,
        at: T1,
      });
      const [byPut, byEvent] = await Promise.all([registry.getRun('run-1'), registry.getRun('run-2')]);
      expect(byPut).toMatchObject({ status: 'waiting', statusSince: T1, currentStep: 'review' });
      const strip = (run: typeof byPut): unknown => ({
        ...run,
        runId: undefined,
        steps: run?.steps.map((s) => ({ ...s, runId: undefined })),
        reviews: run?.reviews.map((v) => ({ ...v, runId: undefined })),
      });
      expect(strip(byPut)).toEqual(strip(byEvent));
      expect(await store.open(ARN, 'editor')).toEqual([r]);
      expect(await store.list(ARN)).toEqual([r]);
      expect(await store.open(ARN, 'legal')).toEqual([]);
      expect(await store.open(`${ARN}-other`, 'editor')).toEqual([]);
      const [row] = await client.query<{ execution_arn: string; task_token: string }>(
        'SELECT execution_arn, task_token FROM pending_review WHERE run_id = $1',
        ['run-1'],
      );
      expect(row).toEqual({ execution_arn: ARN, task_token: 'TT-1' });
      await registry.close();
    });

    it('a new task token replaces the open row (a Lambda retry); a replayed review-opened event keeps it', async () => {
      const { registry, store } = await fresh();
      await store.put(taskTokenReview());
      await store.put(taskTokenReview({ tokenHash: 'hash-2', taskToken: 'TT-2', createdAt: '2026-11-23T10:03:05.000Z' }));
      expect((await store.list(ARN)).map((r) => [r.tokenHash, r.taskToken, r.createdAt])).toEqual([['hash-2', 'TT-2', '2026-11-23T10:03:05.000Z']]);
      await store.put(taskTokenReview({ tokenHash: 'hash-2', taskToken: 'TT-3' }));
      expect((await store.open(ARN, 'editor')).map((r) => [r.tokenHash, r.taskToken])).toEqual([['hash-2', 'TT-3']]);
      const r = taskTokenReview();
      await registry.apply({
        type: 'review-opened',
        runId: 'run-1',
        gate: r.gate,
        stepPath: r.stepPath,
        payload: r.payload,
        tokenHash: 'hash-2',
        expiresAt: r.expiresAt,
        at: T1,
      });
      expect((await store.open(ARN, 'editor')).map((r) => r.taskToken)).toEqual(['TT-3']);
      await registry.close();
    });

    it('close decides once, then refuses; the run runs again', async () => {
      const { registry, store } = await fresh();
      await store.put(taskTokenReview());
      expect(await store.close(ARN, 'review', { status: 'approved', reviewer: 'ana', comment: 'fine', at: T2 })).toBe(true);
      expect(await registry.getRun('run-1')).toMatchObject({ status: 'running', statusSince: T2 });
      expect(await registry.getReview('run-1', 'editor')).toMatchObject({ decision: 'approved', decidedBy: 'ana', comment: 'fine', decidedAt: T2 });
      expect(await store.open(ARN, 'editor')).toEqual([]);
      expect(await store.list(ARN)).toEqual([taskTokenReview({ status: 'approved' })]);
      expect(await store.close(ARN, 'review', { status: 'rejected', reviewer: 'bo', at: T2 })).toBe(false);
      expect(await store.close(ARN, 'elsewhere', { status: 'approved', at: T2 })).toBe(false);
      expect(await store.close(`${ARN}-other`, 'review', { status: 'approved', at: T2 })).toBe(false);
      // a late retry of the same gate entry (same review token), or its event replayed, does not reopen it
      await store.put(taskTokenReview({ taskToken: 'TT-late' }));
      const r = taskTokenReview();
      await registry.apply({
        type: 'review-opened',
        runId: 'run-1',
        gate: r.gate,
        stepPath: r.stepPath,
        payload: r.payload,
        tokenHash: r.tokenHash,
        expiresAt: r.expiresAt,
        at: T1,
      });
      expect(await store.open(ARN, 'editor')).toEqual([]);
      expect(await registry.getReview('run-1', 'editor')).toMatchObject({ decision: 'approved', decidedBy: 'ana' });
      expect((await registry.getRun('run-1'))?.status).toBe('running');
      await registry.close();
    });

    it('records an expired review as the decision timeout; a run waits for all its open reviews', async () => {
      const { registry, store } = await fresh();
      await store.put(taskTokenReview());
      await store.put(
        taskTokenReview({ gate: 'legal', stepPath: 'legal-review', tokenHash: 'hash-l', taskToken: 'TT-L', createdAt: '2026-11-23T10:03:30.000Z' }),
      );
      expect(await store.close(ARN, 'review', { status: 'expired', at: T2 })).toBe(true);
      expect((await registry.getRun('run-1'))?.status).toBe('waiting');
      expect((await registry.getReview('run-1', 'editor'))?.decision).toBe('timeout');
      expect((await store.list(ARN)).map((r) => [r.gate, r.status])).toEqual([
        ['editor', 'expired'],
        ['legal', 'open'],
      ]);
      expect(await store.close(ARN, 'legal-review', { status: 'rejected', reviewer: 'bo', comment: 'no', at: T2 })).toBe(true);
      expect((await registry.getRun('run-1'))?.status).toBe('running');
      expect((await store.list(ARN)).map((r) => r.status)).toEqual(['expired', 'rejected']);
      await registry.close();
    });

    it('lets exactly one of many concurrent decisions win, across connections', async () => {
      const schema = schemaName();
      const [a, b] = [await createSqlRegistry(await open(schema)), await createSqlRegistry(await open(schema))];
      await a.apply(runStarted('run-1'));
      const stores = [createRegistryReviewStore(a), createRegistryReviewStore(b)];
      await stores[0]!.put(taskTokenReview());
      const deciders = Array.from({ length: 8 }, (_, i) => ({ status: i % 2 ? ('rejected' as const) : ('approved' as const), reviewer: `r${i}`, at: T2 }));
      const won = await Promise.all(deciders.map((d, i) => stores[i % 2]!.close(ARN, 'review', d)));
      expect(won.filter(Boolean)).toHaveLength(1);
      const winner = deciders[won.indexOf(true)]!;
      expect(await a.getReview('run-1', 'editor')).toMatchObject({ decidedBy: winner.reviewer, decision: winner.status });
      await Promise.all([a.close(), b.close()]);
    });

    it('never returns the task token from a registry query', async () => {
      const { registry, store } = await fresh();
      const secret = 'TT-SECRET-7f3a';
      await store.put(taskTokenReview({ taskToken: secret }));
      await store.put(taskTokenReview({ gate: 'legal', stepPath: 'legal-review', tokenHash: 'hash-l', taskToken: `${secret}-2` }));
      await store.close(ARN, 'legal-review', { status: 'approved', at: T2 });
      const answers = await Promise.all([
        registry.getRun('run-1'),
        registry.listRuns(),
        registry.runsInFlight(),
        registry.pendingReviews(),
        registry.getReview('run-1', 'editor'),
        registry.getReview('run-1', 'legal'),
        registry.failuresByClass(),
        registry.tokenUsage({ pricing: { inputUsdPerMillion: 1, outputUsdPerMillion: 1 } }),
      ]);
      expect((await registry.pendingReviews()).length).toBe(1);
      expect(JSON.stringify(answers)).not.toContain(secret);
      expect(JSON.stringify(answers)).not.toMatch(/taskToken|task_token/);
      expect(JSON.stringify(await store.list(ARN))).toContain(secret);
      await registry.close();
    });

    it('refuses a put that is not open or has no execution or task token', async () => {
      const { registry, store } = await fresh();
      await expect(store.put(taskTokenReview({ status: 'approved' }))).rejects.toMatchObject({ code: 'InvalidInput' });
      await expect(store.put(taskTokenReview({ taskToken: '' }))).rejects.toMatchObject({ code: 'InvalidInput' });
      await expect(store.put(taskTokenReview({ executionArn: '' }))).rejects.toMatchObject({ code: 'InvalidInput' });
      expect(await registry.pendingReviews()).toEqual([]);
      await registry.close();
    });
  });
}

function runStarted(runId: string): RunEvent {
  return { type: 'run-started', runId, pipeline: 'report', engine: 'stepfunctions', executionId: ARN, input: { reportId: 'R-1' }, at: T0 };
}
