import { definePipeline, isStageError, type Logger } from '@baton/core';
import { conformancePipelines, conformanceStages } from '@baton/core/testkit';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createStepFunctionsLocalEngine } from '../local/engine.js';
import { compileToAsl } from './compile.js';
import { NON_RETRYABLE_CODES } from './retry.js';
import type { AslState } from './types.js';
import { validateAsl } from './validate.js';

// the compiled forms behind kit scenarios 30-35 (issue 17, sections 3 and 4)
const kitStep = conformanceStages.find((s) => s.name === 'kit-step')!;
const kit = (name: string) => conformancePipelines.find((p) => p.name === name)!;
const define = (name: string) => definePipeline({ name, version: 1, input: z.looseObject({ probe: z.string() }) });
const P = { 'probe.$': '$.probe' };
const payload = (s: AslState) => (s.Parameters as { Payload: Record<string, unknown> }).Payload;
const items = (s: AslState) => (s.ItemProcessor as { States: Record<string, AslState> }).States;

describe('choice on a missing path', () => {
  it('absent is Not IsPresent (aws-local-stepfunctions never matches IsPresent: false)', () => {
    const route = compileToAsl(kit('kit-absent')).definition.States.route!;
    expect((route.Choices as Record<string, unknown>[])[0]).toEqual({ Not: { Variable: '$.flag', IsPresent: true }, Next: 'missing' });
  });
});

describe('fail steps under a States.ALL retrier', () => {
  it('the codes of fail steps in a parallel join the leading never-retry retrier', () => {
    const once = compileToAsl(kit('kit-fail-retried')).definition.States.once!;
    expect((once.Retry as Record<string, unknown>[])[0]).toEqual({ ErrorEquals: [...NON_RETRYABLE_CODES, 'Stopped'], MaxAttempts: 0 });
  });

  it('a retrier naming the code retries it, as in Baton; so does a map without States.ALL', () => {
    const named = define('fail-named')
      .parallel(
        'p',
        {
          retry: [
            { errors: ['Stopped'], intervalMs: 1000, maxAttempts: 1 },
            { errors: ['States.ALL'], intervalMs: 1000 },
          ],
        },
        [(b) => b.fail('stop', { error: 'Stopped' })],
      )
      .build();
    const retry = compileToAsl(named).definition.States.p!.Retry as { ErrorEquals: string[] }[];
    expect(retry[0]!.ErrorEquals).not.toContain('Stopped');
    expect(retry[1]!.ErrorEquals).toEqual(['Stopped']);
  });
});

describe('an approval gate whose catch handler runs a task', () => {
  it('compiles the handler once; the timeout joins it with ApprovalTimedOut written at the catch path', () => {
    const compiled = compileToAsl(kit('kit-gate-catch-task'));
    const s = compiled.definition.States;
    expect(compiled.issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(s.review!.Catch).toMatchObject([
      { ErrorEquals: ['States.Timeout'], ResultPath: null, Next: 'review.timedOut' },
      { ErrorEquals: expect.arrayContaining(['States.Runtime']) },
      { ErrorEquals: ['States.ALL'], ResultPath: '$.refused' },
    ]);
    expect(s['review.timedOut']).toMatchObject({
      Type: 'Pass',
      Result: { code: 'ApprovalTimedOut', retryable: false },
      ResultPath: '$.refused',
      Next: 'on-refused',
    });
    expect(validateAsl(compiled.definition).errorsText).toBe('');
  });

  it('a pipeline the compiler refuses fails when the engine is created, typed; warnings are logged', () => {
    const express = define('gate-in-express').approval('review', { gate: 'review', timeoutSeconds: 60 }).build();
    let thrown: unknown;
    try {
      createStepFunctionsLocalEngine({ pipelines: [express], compile: { type: 'EXPRESS' } });
    } catch (e) {
      thrown = e;
    }
    expect(isStageError(thrown) && thrown.code).toBe('InvalidInput');
    expect((thrown as Error).message).toMatch(/EXPRESS workflows do not support \.waitForTaskToken/);
    const warned: Record<string, unknown>[] = [];
    const logger: Logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (_m, f) => void warned.push(f ?? {}),
      error: () => undefined,
      child: () => logger,
    };
    const subSecond = define('sub-second')
      .task('t', kitStep, { input: { ...P, value: 1 }, retry: [{ errors: ['ThrottlingException'], intervalMs: 200 }] })
      .build();
    createStepFunctionsLocalEngine({ pipelines: [subSecond], logger });
    expect(warned).toContainEqual({ pipeline: 'sub-second', step: 't', message: expect.stringMatching(/intervalMs 200 ms is rounded up to 1 s/) });
  });
});

describe('step paths inside a loop with a counter', () => {
  it('carry the iteration, formatted from the counter, in tasks and in map items', () => {
    const s = compileToAsl(kit('kit-loop-paths')).definition.States;
    expect(payload(s.count!)['stepPath.$']).toBe("States.Format('spin@{}/count', $.loops.spin.n)");
    const nested = define('loop-map')
      .loop('spin', { until: { path: '$.done', op: 'present' }, maxIterations: 5 }, (b) =>
        b.map('items', { items: '$.list', resultPath: '$.out' }, (m) => m.task('t', kitStep, { input: { ...P, value: 1 } })),
      )
      .build();
    const map = compileToAsl(nested).definition.States.items!;
    expect((map.ItemSelector as Record<string, unknown>)['path.$']).toBe("States.Format('spin@{}/items[{}]/', $.loops.spin.n, $$.Map.Item.Index)");
    expect(payload(items(map).t!)['stepPath.$']).toBe("States.Format('{}t', $.path)");
  });
});
