import { createLocalEngine, definePipeline, type RunOutcome } from '@baton/core';
import { FATAL_CODES, NOT_CAUGHT_BY_ALL, type StepsBuilder } from '@baton/core/engine';
import { conformancePipelines, conformanceStages, createProbeDir } from '@baton/core/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createStepFunctionsLocalEngine } from '../local/engine.js';
import { compileToAsl } from './compile.js';
import { estimateRunCost } from './limits.js';
import type { AslState } from './types.js';
import { validateAsl } from './validate.js';

const stage = (name: string) => conformanceStages.find((s) => s.name === name)!;
const kit = (name: string) => conformancePipelines.find((p) => p.name === name)!;
const items = (s: AslState) => (s.ItemProcessor as { States: Record<string, AslState> }).States;
const reraise = { Type: 'Fail', ErrorPath: '$.Error', CausePath: '$.Cause' };

const P = { 'probe.$': '$.probe' };
const Input = z.looseObject({ probe: z.string() });
const handle = (id: string) => (b: StepsBuilder) => b.task(id, stage('kit-handler'), { input: { ...P, 'error.$': '$.caught' }, resultPath: '$.handled' });
const catchAll = [{ errors: ['States.ALL'], resultPath: '$.caught' as const, then: handle('h') }];

/** A fully tolerant map whose item 1 is denied the model, under a States.ALL catcher. */
const mapCaughtAll = definePipeline({ name: 'fatal-map-catch-all', version: 1, input: Input })
  .map(
    'items',
    {
      items: '$.items',
      itemSelector: { ...P, 'index.$': '$$.Map.Item.Index', 'value.$': '$$.Map.Item.Value', failIndexes: [1], failCode: 'ModelAccessDenied' },
      toleratedFailurePercentage: 100,
      resultPath: '$.results',
      catch: catchAll,
    },
    (b) => b.task('item', stage('kit-item')),
  )
  .build();
/** A parallel branch failing with ConfigurationError, under a States.ALL catcher. */
const parallelCaughtAll = definePipeline({ name: 'fatal-parallel-catch-all', version: 1, input: Input })
  .parallel('both', { resultPath: '$.branches', catch: catchAll }, [
    (b) => b.task('ok', stage('kit-step'), { input: { ...P, value: 1 } }),
    (b) => b.task('bad', stage('kit-flaky'), { input: { ...P, failTimes: 9, code: 'ConfigurationError' } }),
  ])
  .build();
/** One fatal code named, then States.ALL; the code thrown comes from the input. */
const partlyNamed = definePipeline({ name: 'fatal-partly-named', version: 1, input: Input })
  .task('t', stage('kit-flaky'), {
    input: { ...P, failTimes: 9, 'code.$': '$.code' },
    resultPath: '$.out',
    catch: [{ errors: ['ModelAccessDenied'], resultPath: '$.caught', then: handle('named') }, ...catchAll],
  })
  .build();
/** A tolerant map whose item ends on a `fail` step with a fatal code (a choice routes item 1 there). */
const mapFailStep = definePipeline({ name: 'fatal-map-fail-step', version: 1, input: Input })
  .map('items', { items: '$.items', itemSelector: { ...P, 'value.$': '$$.Map.Item.Value' }, toleratedFailurePercentage: 100, resultPath: '$.results' }, (b) =>
    b.choice(
      'route',
      [{ when: { path: '$.value', op: 'eq', value: 1 }, then: (c) => c.fail('deny', { error: 'ModelAccessDenied', cause: 'no model for item 1' }) }],
      (c) => c.task('ok', stage('kit-step'), { input: { ...P, 'value.$': '$.value' } }),
    ),
  )
  .build();
const pipelines = [mapCaughtAll, parallelCaughtAll, partlyNamed, mapFailStep];

describe('fatal codes in the compiled ASL', () => {
  it('a catcher of the fatal codes, to a Fail re-raising the error, stands before every States.ALL catcher', () => {
    const all = compileToAsl(kit('kit-fatal-catch-all')).definition.States;
    expect(all.configure!.Catch).toEqual([
      { ErrorEquals: [...FATAL_CODES, 'States.Runtime', 'States.DataLimitExceeded'], Next: 'configure.fatal' },
      { ErrorEquals: ['States.ALL'], ResultPath: '$.caught', Next: 'handle' },
    ]);
    expect(all['configure.fatal']).toEqual(reraise);
    // a catcher naming the code, without States.ALL: nothing added
    const named = compileToAsl(kit('kit-fatal-catch-named')).definition.States;
    expect(named.configure!.Catch).toEqual([{ ErrorEquals: ['ConfigurationError'], ResultPath: '$.caught', Next: 'handle' }]);
    expect(Object.keys(named).filter((n) => n.endsWith('.fatal'))).toEqual([]);
    // codes an earlier catcher names stay with it
    const partly = compileToAsl(partlyNamed).definition.States;
    expect((partly.t!.Catch as { ErrorEquals: string[] }[]).map((c) => c.ErrorEquals)).toEqual([
      ['ModelAccessDenied'],
      ['ConfigurationError', ...NOT_CAUGHT_BY_ALL],
      ['States.ALL'],
    ]);
    for (const name of ['items', 'both']) {
      const s = compileToAsl(name === 'items' ? mapCaughtAll : parallelCaughtAll).definition.States;
      expect((s[name]!.Catch as { ErrorEquals: string[]; Next: string }[])[0]).toEqual({
        ErrorEquals: [...FATAL_CODES, ...NOT_CAUGHT_BY_ALL],
        Next: `${name}.fatal`,
      });
    }
  });

  it('items of a tolerant map re-raise a fatal failure instead of recording it; a strict map needs nothing', () => {
    const proc = items(compileToAsl(kit('kit-map-fatal')).definition.States.items!);
    expect(proc.item!.Catch).toEqual([
      { ErrorEquals: [...FATAL_CODES], Next: 'items.failed.fatal' },
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'items.failed.envelope' },
    ]);
    expect(proc['items.failed.fatal']).toEqual(reraise);
    // the retrier naming the fatal code becomes a never-retry entry
    expect((proc.item!.Retry as { ErrorEquals: string[]; MaxAttempts: number }[]).filter((r) => r.ErrorEquals.includes('ModelAccessDenied'))).toEqual([
      { ErrorEquals: ['ModelAccessDenied'], MaxAttempts: 0 },
    ]);
    const strict = items(compileToAsl(kit('kit-map-strict')).definition.States.items!);
    expect(strict.item).not.toHaveProperty('Catch');
  });

  it('adds no state to the happy path, and asl-validator accepts the machines', () => {
    for (const p of [...pipelines, kit('kit-map-fatal'), kit('kit-fatal-catch-all')])
      expect(validateAsl(compileToAsl(p).definition).errorsText, p.name).toBe('');
    // the map and one task per item, as without the guards
    expect(estimateRunCost(compileToAsl(kit('kit-map-fatal')).definition, { items: 10 }).transitions).toBe(1 + 10 * 1);
    expect(estimateRunCost(compileToAsl(kit('kit-fatal-catch-all')).definition).transitions).toBe(1);
  });
});

describe('fatal codes at run time: the compiled machine fails as the interpreter does', { timeout: 60_000 }, () => {
  const sfn = createStepFunctionsLocalEngine({ pipelines });
  const interpreter = createLocalEngine({ pipelines });
  afterAll(async () => {
    await Promise.all([sfn.close(), interpreter.close()]);
  });
  const both = async (pipeline: string, input: Record<string, unknown>): Promise<RunOutcome[]> =>
    Promise.all(
      [sfn, interpreter].map(async (engine) => {
        const { runId } = await engine.start(pipeline, { probe: createProbeDir(), ...input });
        return engine.result(runId, { timeoutMs: 30_000 });
      }),
    );

  it("a fatal item failure passes a map's tolerance and its States.ALL catcher", async () => {
    for (const outcome of await both('fatal-map-catch-all', { items: [1, 2, 3] })) {
      expect(outcome).toMatchObject({ status: 'failed', error: { code: 'ModelAccessDenied', message: 'item 1 is broken', retryable: false } });
    }
  });

  it('a fail step with a fatal code in a tolerant map fails the map', async () => {
    for (const outcome of await both('fatal-map-fail-step', { items: [0, 1, 2] })) {
      expect(outcome).toMatchObject({ status: 'failed', error: { code: 'ModelAccessDenied' } });
    }
  });

  it("a fatal branch failure passes a parallel's States.ALL catcher", async () => {
    for (const outcome of await both('fatal-parallel-catch-all', {})) {
      expect(outcome).toMatchObject({ status: 'failed', error: { code: 'ConfigurationError', message: 'ConfigurationError on attempt 1' } });
    }
  });

  it('a named fatal code is caught, the other fails the run, an ordinary code goes to States.ALL', async () => {
    for (const outcome of await both('fatal-partly-named', { code: 'ModelAccessDenied' }))
      expect(outcome).toMatchObject({ status: 'succeeded', output: { handled: { handled: 'ModelAccessDenied' } } });
    for (const outcome of await both('fatal-partly-named', { code: 'ConfigurationError' }))
      expect(outcome).toMatchObject({ status: 'failed', error: { code: 'ConfigurationError' } });
    for (const outcome of await both('fatal-partly-named', { code: 'SafetyCheckFailed' }))
      expect(outcome).toMatchObject({ status: 'succeeded', output: { handled: { handled: 'SafetyCheckFailed' } } });
  });
});
