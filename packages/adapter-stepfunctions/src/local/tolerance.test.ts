import { createLocalEngine, definePipeline, type AnyPipeline, type RunOutcome } from '@baton/core';
import { conformanceStages, createProbeDir, readProbe } from '@baton/core/testkit';
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

const run = async (
  engine: typeof sfn | typeof interpreter | typeof express,
  pipeline: string,
  items: number,
  failIndexes: number[],
  probe: string,
): Promise<RunOutcome> => {
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
      if (outcome.status === 'failed')
        expect(outcome.error).toMatchObject({
          code: 'States.ExceedToleratedFailureThreshold',
          message: `map "items": ${fails.length} of ${items} items failed, more than tolerated`,
        });
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
    expect(s25['items.any']).toEqual({
      Type: 'Choice',
      Choices: [{ Variable: '$.results.total', NumericGreaterThan: 0, Next: 'items.count' }],
      Default: 'items.results',
    });
    expect(s25['items.count']).toMatchObject({ Type: 'Pass', ResultPath: '$.results.count', Next: 'items.ratio' });
    expect(s25['items.ratio']).toEqual({
      Type: 'Pass',
      Parameters: {
        'failed.$':
          'States.MathAdd(States.MathAdd($.results.count.failed, $.results.count.failed), States.MathAdd($.results.count.failed, $.results.count.failed))',
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

describe('a first failure that passes the threshold fails the Map state from inside the item', { timeout: 60_000 }, () => {
  const early = (name: string, settings: { toleratedFailurePercentage?: number; toleratedFailureCount?: number }, catching = false): AnyPipeline =>
    definePipeline({ name, version: 1, input: Input })
      .map(
        'items',
        {
          items: '$.items',
          itemSelector,
          maxConcurrency: 1,
          resultPath: '$.results',
          ...settings,
          ...(catching ? { catch: [{ errors: ['States.ExceedToleratedFailureThreshold'], resultPath: '$.over', then: (b) => b }] } : {}),
        },
        (b) =>
          b.choice('odd', [{ when: { path: '$.value', op: 'eq', value: 99 }, then: (c) => c.fail('stop', { error: 'Stopped', cause: 'value 99' }) }], (c) =>
            c.task('item', kitItem),
          ),
      )
      .build();
  const zero = early('count-0', { toleratedFailureCount: 0 });
  const caught = early('count-0-caught', { toleratedFailureCount: 0 }, true);
  const pct = early('pct-25-early', { toleratedFailurePercentage: 25 });
  const engines = [createStepFunctionsLocalEngine({ pipelines: [zero, caught, pct] }), createLocalEngine({ pipelines: [zero, caught, pct] })] as const;
  afterAll(async () => {
    for (const e of engines) await e.close();
  });
  const start = async (engine: (typeof engines)[number], pipeline: string, items: number[], failIndexes: number[]) => {
    const probe = createProbeDir();
    const { runId } = await engine.start(pipeline, { probe, items, failIndexes });
    return { outcome: await engine.result(runId, { timeoutMs: 30_000 }), started: readProbe(probe).map((e) => e.key) };
  };

  it("count 0: the item goes to a Fail state with the interpreter's message; the item count rides in the item state", () => {
    const def = compileToAsl(zero).definition.States.items!;
    expect(def.ItemSelector).toMatchObject({ 'total.$': 'States.ArrayLength($.items)' });
    const states = (def.ItemProcessor as { States: Record<string, AslState> }).States;
    expect(states['items.failed']).toEqual({ Type: 'Pass', Next: 'items.over' });
    expect(states['items.over']).toEqual({
      Type: 'Pass',
      Parameters: { 'cause.$': `States.Format('map "items": 1 of {} items failed, more than tolerated', $.total)` },
      ResultPath: '$.over',
      Next: 'items.over.fail',
    });
    expect(states['items.over.fail']).toEqual({ Type: 'Fail', Error: 'States.ExceedToleratedFailureThreshold', CausePath: '$.over.cause' });
    // the fail step's failure goes through the same decision
    expect(states.stop).toMatchObject({ Type: 'Pass', ResultPath: '$.error', Next: 'items.failed' });
    expect(validateAsl(compileToAsl(zero).definition).errorsText).toBe('');
  });

  it('25 %: a Choice on the item count (one failure passes 25 % of fewer than four items)', () => {
    const states = (compileToAsl(pct).definition.States.items!.ItemProcessor as { States: Record<string, AslState> }).States;
    expect(states['items.failed']).toEqual({
      Type: 'Choice',
      Choices: [{ Variable: '$.total', NumericLessThan: 4, Next: 'items.over' }],
      Default: 'items.failed.record',
    });
    expect(states['items.failed.record']).toEqual({ Type: 'Pass', Parameters: { status: 'failed', 'error.$': '$.error' }, End: true });
  });

  it.each([
    ['count-0', [0, 1, 2, 3], [1], 'map "items": 1 of 4 items failed, more than tolerated', ['item-0', 'item-1']],
    ['pct-25-early', [0, 1, 2], [0], 'map "items": 1 of 3 items failed, more than tolerated', ['item-0']],
    ['count-0', [0, 99, 2], [], 'map "items": 1 of 3 items failed, more than tolerated', ['item-0']],
  ] as const)('%s over %j failing %j: the same error, and no item starts after, on both engines', async (pipeline, items, fails, message, started) => {
    for (const engine of engines) {
      const run = await start(engine, pipeline, [...items], [...fails]);
      expect(run.outcome).toMatchObject({ status: 'failed', error: { code: 'States.ExceedToleratedFailureThreshold', message, retryable: false } });
      expect(run.started).toEqual(started.flatMap((k) => [k, k]));
    }
  });

  it('pct 25 over eight items: one failure is tolerated and recorded in place', async () => {
    for (const engine of engines) {
      const run = await start(engine, 'pct-25-early', [0, 1, 2, 3, 4, 5, 6, 7], [3]);
      const results = (run.outcome as { status: 'succeeded'; output: { results: { status: string }[] } }).output.results;
      expect(results.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'failed', 'succeeded', 'succeeded', 'succeeded', 'succeeded']);
    }
  });

  it("the map's catch sees the breach on both engines, with the same error", async () => {
    const outs = [];
    for (const engine of engines) outs.push(await start(engine, 'count-0-caught', [0, 1, 2], [1]));
    for (const { outcome, started } of outs) {
      expect((outcome as { status: 'succeeded'; output: { over: unknown } }).output.over).toEqual({
        code: 'States.ExceedToleratedFailureThreshold',
        message: 'map "items": 1 of 3 items failed, more than tolerated',
        retryable: false,
      });
      expect(started).toEqual(['item-0', 'item-0', 'item-1', 'item-1']);
    }
  });
});
