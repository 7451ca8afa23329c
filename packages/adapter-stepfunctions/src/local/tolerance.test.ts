import { createLocalEngine, definePipeline, type AnyPipeline, type RunOutcome } from '@baton/core';
import { conformanceStages, createProbeDir } from '@baton/core/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { compileToAsl } from '../compile/compile.js';
import { MAX_INTRINSICS_PER_FIELD, ratio } from '../compile/tolerance.js';
import type { AslState } from '../compile/types.js';
import { validateAsl } from '../compile/validate.js';
import { createStepFunctionsLocalEngine } from './engine.js';

// aws-local-stepfunctions ignores ToleratedFailure*, but the compiled enforcement is plain Map
// ResultSelector + Pass + Choice + Fail states, which it runs: so the machine is run, and its
// outcome compared with core's interpreter (the local engine) on the same inputs.
const kitItem = conformanceStages.find((s) => s.name === 'kit-item')!;
const Input = z.object({ probe: z.string(), items: z.array(z.number()), failIndexes: z.array(z.number()) });
const itemSelector = { 'probe.$': '$.probe', 'index.$': '$$.Map.Item.Index', 'value.$': '$$.Map.Item.Value', 'failIndexes.$': '$.failIndexes' };

const tolerant = (name: string, settings: { toleratedFailurePercentage?: number; toleratedFailureCount?: number }): AnyPipeline =>
  definePipeline({ name, version: 1, input: Input })
    .map('items', { items: '$.items', itemSelector, maxConcurrency: 4, resultPath: '$.results', ...settings }, (b) => b.task('item', kitItem))
    .build();

const pipelines = [
  tolerant('pct-25', { toleratedFailurePercentage: 25 }),
  tolerant('pct-33', { toleratedFailurePercentage: 33 }),
  tolerant('pct-12.5', { toleratedFailurePercentage: 12.5 }),
  tolerant('pct-0', { toleratedFailurePercentage: 0 }),
  tolerant('pct-1', { toleratedFailurePercentage: 1 }),
  tolerant('count-1-pct-50', { toleratedFailureCount: 1, toleratedFailurePercentage: 50 }),
];
const sfn = createStepFunctionsLocalEngine({ pipelines });
const express = createStepFunctionsLocalEngine({ pipelines, compile: { type: 'EXPRESS' } });
// DISTRIBUTED in the compiled machine (aws-local-stepfunctions runs its items inline)
const distributed = createStepFunctionsLocalEngine({ pipelines, compile: { expectedItems: { items: 5000 } } });
const interpreter = createLocalEngine({ pipelines });
afterAll(async () => {
  for (const e of [sfn, express, distributed, interpreter]) await e.close();
});

const run = async (engine: typeof sfn | typeof interpreter | typeof express, pipeline: string, items: number, failIndexes: number[], probe: string): Promise<RunOutcome> => {
  const { runId } = await engine.start(pipeline, { probe, items: Array.from({ length: items }, (_, i) => i), failIndexes });
  return engine.result(runId, { timeoutMs: 30_000 });
};

describe('tolerated failures on an INLINE map: enforced by the compiled machine as by the interpreter', { timeout: 60_000 }, () => {
  it.each([
    ['pct-25', 0, [], 'succeeded'],
    ['pct-25', 8, [0, 1], 'succeeded'],
    ['pct-25', 8, [0, 1, 2], 'failed'],
    ['pct-33', 3, [], 'succeeded'],
    ['pct-33', 3, [0], 'failed'],
    ['pct-12.5', 8, [3], 'succeeded'],
    ['pct-12.5', 8, [3, 4], 'failed'],
    ['pct-0', 4, [], 'succeeded'],
    ['pct-0', 4, [2], 'failed'],
    ['pct-1', 100, [7], 'succeeded'],
    ['pct-1', 100, [7, 8], 'failed'],
    ['count-1-pct-50', 4, [1], 'succeeded'],
    ['count-1-pct-50', 4, [1, 2], 'failed'],
    ['count-1-pct-50', 40, [1, 2, 3], 'failed'],
  ] as const)('%s over %i items, failing %j: %s on both engines', async (pipeline, items, fails, status) => {
    const probe = createProbeDir();
    const [compiled, interpreted] = await Promise.all([run(sfn, pipeline, items, [...fails], probe), run(interpreter, pipeline, items, [...fails], probe)]);
    expect(compiled.status).toBe(status);
    expect(interpreted.status).toBe(status);
    if (compiled.status === 'succeeded' && interpreted.status === 'succeeded') {
      expect(compiled.output).toEqual(interpreted.output);
      const results = (compiled.output as { results: { status: string; error?: { code: string } }[] }).results;
      expect(results.filter((r) => r.status === 'failed').map((r) => r.error?.code)).toEqual(fails.map(() => 'ItemBroken'));
    }
    if (compiled.status === 'failed' && interpreted.status === 'failed') {
      expect(compiled.error.code).toBe('States.ExceedToleratedFailureThreshold');
      expect(interpreted.error.code).toBe('States.ExceedToleratedFailureThreshold');
      // the interpreter stops starting items once over the threshold, so its count may be lower
      expect(compiled.error.message).toBe(`map "items": ${fails.length} of ${items} items failed, more than tolerated`);
      expect(interpreted.error.message).toMatch(/^map "items": \d+ of \d+ items failed, more than tolerated$/);
    }
  });
});

describe('the same enforcement in EXPRESS workflows and DISTRIBUTED maps', { timeout: 60_000 }, () => {
  it.each([
    ['pct-25', 8, [0, 1], 'succeeded'],
    ['pct-25', 8, [0, 1, 2], 'failed'],
    ['count-1-pct-50', 4, [1, 2], 'failed'],
  ] as const)('%s over %i items, failing %j: %s', async (pipeline, items, fails, status) => {
    expect(distributed.machine(pipeline).definition.States.items!.ItemProcessor).toMatchObject({ ProcessorConfig: { Mode: 'DISTRIBUTED' } });
    expect(express.machine(pipeline).type).toBe('EXPRESS');
    for (const engine of [express, distributed]) {
      const outcome = await run(engine, pipeline, items, [...fails], createProbeDir());
      expect(outcome.status).toBe(status);
      if (outcome.status === 'failed') expect(outcome.error).toMatchObject({ code: 'States.ExceedToleratedFailureThreshold', message: `map "items": ${fails.length} of ${items} items failed, more than tolerated` });
    }
  });
});

describe('compiled tolerance states', { timeout: 60_000 }, () => {
  it('percentages as exact fractions in lowest terms', () => {
    expect(ratio(25)).toEqual({ a: 1, b: 4 });
    expect(ratio(33)).toEqual({ a: 33, b: 100 });
    expect(ratio(12.5)).toEqual({ a: 1, b: 8 });
    expect(ratio(0)).toEqual({ a: 0, b: 1 });
  });

  it('one Pass for 25 %, three for 33 %; no field nests more than 10 intrinsic functions; valid ASL in STANDARD and EXPRESS', () => {
    const s25 = compileToAsl(pipelines[0]!).definition.States;
    expect(s25.items).toMatchObject({ ResultPath: '$.results', Next: 'items.any', ResultSelector: { 'items.$': '$', 'total.$': 'States.ArrayLength($)' } });
    expect(s25['items.any']).toEqual({ Type: 'Choice', Choices: [{ Variable: '$.results.total', NumericGreaterThan: 0, Next: 'items.count' }], Default: 'items.results' });
    expect(s25['items.count']).toMatchObject({ Type: 'Pass', ResultPath: '$.results.count', Next: 'items.ratio' });
    expect(s25['items.ratio']).toEqual({
      Type: 'Pass',
      Parameters: {
        'failed.$': 'States.MathAdd(States.MathAdd($.results.count.failed, $.results.count.failed), States.MathAdd($.results.count.failed, $.results.count.failed))',
        'limit.$': '$.results.total',
      },
      ResultPath: '$.results.ratio',
      Next: 'items.tolerance',
    });
    expect(s25['items.results']).toEqual({ Type: 'Pass', InputPath: '$.results.items', ResultPath: '$.results', End: true });
    expect(s25['items.exceeded']).toEqual({ Type: 'Fail', Error: 'States.ExceedToleratedFailureThreshold', CausePath: '$.results.count.cause' });
    expect(s25['items.tolerance']).toEqual({
      Type: 'Choice',
      Choices: [{ Variable: '$.results.ratio.failed', NumericGreaterThanPath: '$.results.ratio.limit', Next: 'items.exceeded' }],
      Default: 'items.results',
    });
    const s33 = compileToAsl(pipelines[1]!).definition.States;
    expect(Object.keys(s33).filter((n) => n.startsWith('items.ratio'))).toEqual(['items.ratio1', 'items.ratio2', 'items.ratio3']);
    for (const p of pipelines) {
      for (const type of ['STANDARD', 'EXPRESS'] as const) {
        const def = compileToAsl(p, { type }).definition;
        expect(validateAsl(def).errorsText, `${p.name} ${type}`).toBe('');
        for (const state of Object.values(def.States) as AslState[]) {
          for (const v of Object.values((state.Parameters as Record<string, unknown> | undefined) ?? {})) {
            expect(String(v).split('States.').length - 1).toBeLessThanOrEqual(MAX_INTRINSICS_PER_FIELD);
          }
        }
      }
    }
  });

  it('a map that discards its results cannot count failures: a compile error, not a silently ignored threshold', () => {
    const p = definePipeline({ name: 'discarding', version: 1, input: Input })
      .map('items', { items: '$.items', itemSelector, resultPath: null, toleratedFailurePercentage: 10 }, (b) => b.task('item', kitItem))
      .build();
    expect(() => compileToAsl(p)).toThrow(/discards its results .* give the map a resultPath/);
  });
});
