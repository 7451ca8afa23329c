import { definePipeline } from '@baton/core';
import { conformanceStages, createProbeDir } from '@baton/core/testkit';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { validateAsl } from '../compile/validate.js';
import { createStepFunctionsLocalEngine } from './engine.js';

const kitStep = conformanceStages.find((s) => s.name === 'kit-step')!;
const Input = z.looseObject({ probe: z.string(), counter: z.object({ value: z.number() }), pause: z.number() });

const loopPipeline = (name: string, maxIterations: number) =>
  definePipeline({ name, version: 1, input: Input })
    .loop('bump', { until: { path: '$.counter.value', op: 'gte', value: 2 }, maxIterations }, (b) =>
      b.task('inc', kitStep, { input: { 'probe.$': '$.probe', 'value.$': '$.counter.value' }, resultPath: '$.counter' }),
    )
    .wait('pause', { secondsPath: '$.pause' })
    .choice('check', [{ when: { path: '$.counter.value', op: 'eq', value: 2 }, then: (b) => b.succeed('done') }], (b) =>
      b.fail('bad', { error: 'Unexpected', cause: 'counter is not 2' }),
    )
    .build();

describe('loop, wait, choice, succeed and fail run as compiled', () => {
  const unrolled = loopPipeline('loop-unrolled', 3);
  const counted = loopPipeline('loop-counted', 5);
  const engine = createStepFunctionsLocalEngine({ pipelines: [unrolled, counted] });

  it('an unrolled loop stops when its predicate holds; step paths are <loop>@<i>/<step>', async () => {
    expect(validateAsl(engine.machine('loop-unrolled').definition).errorsText).toBe('');
    const { runId } = await engine.start('loop-unrolled', { probe: createProbeDir(), counter: { value: 0 }, pause: 0 });
    const outcome = await engine.result(runId);
    expect(outcome).toMatchObject({ status: 'succeeded', output: { counter: { value: 2 } } });
    expect((await engine.status(runId)).attempts.map((a) => a.stepPath)).toEqual(['bump@0/inc', 'bump@1/inc']);
  });

  it('a counted loop keeps its counter in the state and is bounded by maxIterations', async () => {
    expect(validateAsl(engine.machine('loop-counted').definition).errorsText).toBe('');
    const ok = await engine.result((await engine.start('loop-counted', { probe: createProbeDir(), counter: { value: 0 }, pause: 0 })).runId);
    expect(ok).toMatchObject({ status: 'succeeded', output: { counter: { value: 2 }, loops: { bump: { n: 2 } } } });
    // starting at -10 the loop stops after 5 bodies, then the choice's otherwise fails the run
    const bounded = await engine.result((await engine.start('loop-counted', { probe: createProbeDir(), counter: { value: -10 }, pause: 0 })).runId);
    expect(bounded).toMatchObject({ status: 'failed', error: { code: 'Unexpected', message: 'counter is not 2' } });
  });
});
