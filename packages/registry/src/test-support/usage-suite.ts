import { createLocalEngine, type PriceTable, type ReviewNotice, type RunEvent } from '@baton/core';
import { type InvocationMetrics } from '@baton/core/engine';
import { describe, expect, it } from 'vitest';
import { auditRunRecord } from '../audit.js';
import { createRegistryObserver } from '../observer.js';
import { createSqlRegistry } from '../sql-registry.js';
import type { RunRegistry } from '../types.js';
import { fixedModel, reportPipeline } from './report-pipeline.js';
import { schemaName, type OpenClient } from './registry-suite.js';

/** Model usage and cost from attempt events, on every registry implementation (PostgreSQL and PGlite). */
export function usageSuite(label: string, open: OpenClient): void {
  const fresh = async (): Promise<RunRegistry> => createSqlRegistry(await open(schemaName()));

  describe(`model usage and cost on ${label}`, () => {
    it('records each attempt’s tokens, estimates, throttles, budget wait and cost; a run and its sections sum them once', async () => {
      const registry = await fresh();
      const events = pricedRun('run-c', 'report', '2026-11-24T10:00:00.000Z');
      for (const e of events) await registry.apply(e);
      await registry.applyAll(events.filter((e) => e.type === 'attempt-finished')); // a redelivery counts nothing twice
      const run = await registry.getRun('run-c');
      const attempt = run?.attempts.find((a) => a.stepPath === 'sections[1]/write' && a.attempt === 1);
      expect(attempt).toMatchObject({
        inputTokens: 0,
        outputTokens: 0,
        modelCalls: 2,
        throttledCalls: 2,
        estimatedInputTokens: 240,
        estimatedOutputTokens: 100,
        budgetWaitMs: 1200,
        failedInputTokens: 0,
        cost: 0,
        modelId: 'm-large',
      });
      expect(run?.attempts.find((a) => a.stepPath === 'summary')).toMatchObject({ cost: 0.0021, unpricedModels: ['m-unknown'] });
      const costs = run!.attempts.map((a) => a.cost ?? 0);
      const sum = costs.reduce((a, b) => a + b, 0);
      expect(run).toMatchObject({ inputTokens: 620, outputTokens: 230, modelCalls: 6, attemptCount: 4, throttledCalls: 2 });
      expect(run?.cost).toBeCloseTo(sum, 12);
      expect(run?.usage.total).toMatchObject({
        attempts: 4,
        modelCalls: 6,
        throttledCalls: 2,
        estimatedInputTokens: 840,
        estimatedOutputTokens: 340,
        budgetWaitMs: 1400,
        failedInputTokens: 20,
      });
      expect(run?.usage.total.cost).toBeCloseTo(sum, 12);
      expect(Object.keys(run!.usage.bySection)).toEqual(['sections[0]', 'sections[1]']);
      expect(run?.usage.bySection['sections[0]']?.cost).toBeCloseTo(0.0123, 12);
      expect(run?.usage.bySection['sections[1]']).toMatchObject({ attempts: 2, modelCalls: 3, throttledCalls: 2, inputTokens: 220, outputTokens: 90 });
      expect(run?.usage.bySection['sections[1]']?.cost).toBeCloseTo(0.0045, 12);
      expect(run?.usage.unpricedModels).toEqual(['m-unknown']);
      await registry.close();
    });

    it('keeps the cost absent, not zero, when the engine had no price table', async () => {
      const registry = await fresh();
      for (const e of pricedRun('run-n', 'report', '2026-11-24T10:00:00.000Z', false)) await registry.apply(e);
      const run = await registry.getRun('run-n');
      expect(run?.inputTokens).toBe(620);
      expect(run?.cost).toBeUndefined();
      expect(run?.usage.total.cost).toBeUndefined();
      expect(run?.attempts.every((a) => a.cost === undefined)).toBe(true);
      expect((await registry.listRuns())[0]?.cost).toBeUndefined();
      await registry.close();
    });

    it('totals usage over a time range by pipeline, costliest first (default: this week)', async () => {
      const registry = await fresh();
      for (const e of [
        ...pricedRun('a1', 'report', '2026-11-24T10:00:00.000Z'),
        ...pricedRun('a2', 'report', '2026-11-25T10:00:00.000Z'),
        ...pricedRun('b1', 'digest', '2026-11-26T10:00:00.000Z', false),
        ...pricedRun('old', 'report', '2026-11-20T10:00:00.000Z'), // the week before
      ]) {
        await registry.apply(e);
      }
      const now = new Date('2026-11-27T12:00:00.000Z');
      const week = await registry.usageByPipeline({ now });
      expect(week.since).toBe('2026-11-23T00:00:00.000Z');
      expect(week.pipelines.map((p) => [p.pipeline, p.runs])).toEqual([
        ['report', 2],
        ['digest', 1],
      ]);
      const report = await registry.getRun('a1');
      expect(week.pipelines[0]?.cost).toBeCloseTo(2 * report!.cost!, 12);
      expect(week.pipelines[0]?.inputTokens).toBe(1240);
      expect(week.pipelines[1]?.cost).toBeUndefined();
      expect(week.total).toMatchObject({ runs: 3, inputTokens: 1860, modelCalls: 18 });
      expect(week.total.cost).toBeCloseTo(2 * report!.cost!, 12);
      const before = await registry.usageByPipeline({ since: new Date('2026-11-16T00:00:00.000Z'), until: new Date('2026-11-23T00:00:00.000Z') });
      expect(before).toMatchObject({ until: '2026-11-23T00:00:00.000Z', total: { runs: 1 }, pipelines: [{ pipeline: 'report', runs: 1 }] });
      const empty = await registry.usageByPipeline({ since: new Date('2026-12-01T00:00:00.000Z') });
      expect(empty).toMatchObject({ total: { runs: 0, attempts: 0, inputTokens: 0 }, pipelines: [] });
      expect(empty.total.cost).toBeUndefined();
      await registry.close();
    });

    it('records the cost of a real run on the local engine with a price table: the sum of its attempts, as the engine reports it', async () => {
      const registry = await fresh();
      const observer = createRegistryObserver(registry);
      const notices: ReviewNotice[] = [];
      const prices: PriceTable = { 'fixed-test-model': { inputPer1M: 3, outputPer1M: 15 } };
      const engine = createLocalEngine({ pipelines: [reportPipeline], model: fixedModel, prices, observer, notifier: (n) => void notices.push(n) });
      const { runId } = await engine.start('test-report', { title: 'Q3', topics: ['revenue', 'risks', 'outlook'] });
      for (let i = 0; notices.length === 0 && i < 500; i++) await new Promise((r) => setTimeout(r, 10));
      await engine.approve(runId, 'editor', { token: notices[0]!.token, reviewer: 'ana' });
      expect((await engine.result(runId)).status).toBe('succeeded');
      await observer.flush();
      const run = await registry.getRun(runId);
      const truth = (await engine.status(runId)).usage!;
      // four model calls of 100 in / 40 out (one attempt throttled after its call)
      const perCall = (100 * 3 + 40 * 15) / 1e6;
      expect(run?.cost).toBeGreaterThan(0);
      expect(run?.cost).toBeCloseTo(4 * perCall, 12);
      expect(run?.cost).toBeCloseTo(
        run!.attempts.reduce((s, a) => s + (a.cost ?? 0), 0),
        12,
      );
      expect(run?.cost).toBeCloseTo(truth.cost, 12);
      for (const [section, totals] of Object.entries(truth.bySection)) expect(run?.usage.bySection[section]?.cost).toBeCloseTo(totals.cost, 12);
      expect(run?.usage.bySection['sections[1]']).toMatchObject({ attempts: 2, modelCalls: 2 });
      const week = await registry.usageByPipeline();
      expect(week.pipelines).toEqual([expect.objectContaining({ pipeline: 'test-report', runs: 1, inputTokens: 400, outputTokens: 160 })]);
      expect(week.pipelines[0]?.cost).toBeCloseTo(4 * perCall, 12);
      expect(observer.failures).toBe(0);
      expect(await auditRunRecord(registry, engine, runId)).toEqual({ ok: true, problems: [] });
      // an attempt the engine never made, with a cost: the audit names the difference
      await registry.apply({
        type: 'attempt-finished',
        runId,
        stepPath: 'assemble',
        stage: 'assemble',
        attempt: 9,
        status: 'succeeded',
        metrics: { durationMs: 1, modelCalls: 1, inputTokens: 5, outputTokens: 5, modelLatencyMs: 1, cost: 0.5 },
        at: new Date().toISOString(),
      });
      expect((await auditRunRecord(registry, engine, runId)).problems).toEqual(
        expect.arrayContaining(['model calls: registry 5, engine 4', expect.stringMatching(/^cost: registry 0\.50\d*, engine 0\.00\d+$/)]),
      );
      await engine.close();
      await registry.close();
    });
  });
}

/**
 * A run of `pipeline` starting at `at`: sections[0] (one call), sections[1] (two throttled calls,
 * then a retry with one call), and a summary outside the map calling a priced and an unpriced model.
 */
function pricedRun(runId: string, pipeline: string, at: string, priced = true): RunEvent[] {
  const t = (sec: number): string => new Date(Date.parse(at) + sec * 1000).toISOString();
  const m = (x: Omit<InvocationMetrics, 'durationMs' | 'modelLatencyMs'> & { cost?: number }): InvocationMetrics => {
    const { cost, ...rest } = x;
    return { durationMs: 500, modelLatencyMs: 400, ...rest, ...(priced && cost !== undefined ? { cost } : {}) };
  };
  const attempt = (stepPath: string, n: number, sec: number, metrics: InvocationMetrics, failed = false): RunEvent[] => [
    { type: 'attempt-started', runId, stepPath, stage: 'write', attempt: n, at: t(sec) },
    failed
      ? {
          type: 'attempt-finished',
          runId,
          stepPath,
          stage: 'write',
          attempt: n,
          status: 'failed',
          error: { code: 'ModelQuotaExhausted', message: 'throttled', retryable: true },
          metrics,
          at: t(sec + 1),
        }
      : { type: 'attempt-finished', runId, stepPath, stage: 'write', attempt: n, status: 'succeeded', metrics, at: t(sec + 1) },
  ];
  return [
    { type: 'run-started', runId, pipeline, engine: 'local', input: {}, at: t(0) },
    ...attempt(
      'sections[0]/write',
      1,
      1,
      m({ modelCalls: 1, inputTokens: 200, outputTokens: 80, estimatedInputTokens: 200, estimatedOutputTokens: 80, modelId: 'm-large', cost: 0.0123 }),
    ),
    ...attempt(
      'sections[1]/write',
      1,
      2,
      m({
        modelCalls: 2,
        throttledCalls: 2,
        inputTokens: 0,
        outputTokens: 0,
        estimatedInputTokens: 240,
        estimatedOutputTokens: 100,
        budgetWaitMs: 1200,
        modelId: 'm-large',
        cost: 0,
      }),
      true,
    ),
    ...attempt(
      'sections[1]/write',
      2,
      4,
      m({
        modelCalls: 1,
        inputTokens: 220,
        outputTokens: 90,
        estimatedInputTokens: 220,
        estimatedOutputTokens: 90,
        budgetWaitMs: 200,
        modelId: 'm-large',
        cost: 0.0045,
      }),
    ),
    ...attempt(
      'summary',
      1,
      6,
      m({
        modelCalls: 2,
        inputTokens: 200,
        outputTokens: 60,
        estimatedInputTokens: 180,
        estimatedOutputTokens: 70,
        failedInputTokens: 20,
        modelId: 'm-large',
        cost: 0.0021,
        ...(priced ? { unpricedModels: ['m-unknown'] } : {}),
      }),
    ),
    { type: 'run-finished', runId, status: 'succeeded', output: {}, at: t(9) },
  ];
}
