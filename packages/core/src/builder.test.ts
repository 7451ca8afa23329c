import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePipeline, pipelineFromIR } from './builder.js';
import { childBlocks, walkSteps, type StepIR } from './ir.js';
import { stageMetaOf } from './engine-support.js';
import { defineStage } from './stage.js';

const Text = z.object({ text: z.string() });
const generate = defineStage({
  name: 'generate',
  version: 1,
  input: Text,
  output: Text,
  throws: ['ValidationFailed'],
  async run(input) {
    return input;
  },
});
const repair = defineStage({
  name: 'repair',
  version: 1,
  input: z.unknown(),
  output: Text,
  async run() {
    return { text: 'fixed' };
  },
});

function everyKind() {
  return definePipeline({ name: 'all-kinds', version: 3, input: z.object({ sections: z.array(z.string()), wait: z.number() }) })
    .task('plan', generate, {
      input: { 'text.$': '$.sections[0]' },
      resultPath: '$.plan',
      timeoutMs: 5000,
      comment: 'plans the report',
      retry: [{ errors: ['ThrottlingException'], intervalMs: 2000, backoffRate: 2, maxAttempts: 5, jitter: 'FULL', maxDelayMs: 60_000 }],
      catch: [{ errors: ['ValidationFailed'], resultPath: '$.planError', then: (b) => b.task('fix-plan', repair, { resultPath: '$.plan' }) }],
    })
    .map(
      'sections',
      {
        items: '$.sections',
        itemSelector: { 'text.$': '$$.Map.Item.Value', 'index.$': '$$.Map.Item.Index' },
        maxConcurrency: 3,
        toleratedFailurePercentage: 20,
        toleratedFailureCount: 2,
        resultPath: '$.drafts',
        catch: [{ errors: ['States.ALL'], resultPath: null, then: (b) => b.succeed('give-up') }],
      },
      (item) =>
        item
          .task('generate', generate, { resultPath: '$.draft' })
          .loop('repair-loop', { until: { path: '$.draft.text', op: 'present' }, maxIterations: 3 }, (body) =>
            body.task('repair', repair, { resultPath: '$.draft' }),
          ),
    )
    .parallel('both', { resultPath: '$.both' }, [(b) => b.task('left', generate, { input: { text: 'l' } }), (b) => b.wait('pause', { seconds: 1 })])
    .choice(
      'route',
      [
        {
          when: { and: [{ path: '$.wait', op: 'gt', value: 0 }, { not: { path: '$.skip', op: 'present' } }] },
          then: (b) => b.wait('wait-path', { secondsPath: '$.wait' }),
        },
        { when: { or: [{ path: '$.wait', op: 'eq', value: null }] }, then: (b) => b.wait('wait-until', { until: '2030-01-01T00:00:00Z' }) },
      ],
      (b) => b.fail('no-route', { error: 'NoRoute', cause: 'nothing matched' }),
    )
    .approval('review', {
      gate: 'legal',
      timeoutSeconds: 86_400,
      reviewer: 'alice',
      payload: { 'drafts.$': '$.drafts' },
      resultPath: '$.review',
      catch: [{ errors: ['ApprovalRejected'], then: (b) => b.fail('rejected', { error: 'Rejected' }) }],
    })
    .succeed('done')
    .build();
}

describe('builder', () => {
  it('uses every node kind', () => {
    const kinds = new Set<string>();
    walkSteps(everyKind().ir.steps, (s) => kinds.add(s.kind));
    expect([...kinds].sort()).toEqual(['approval', 'choice', 'fail', 'loop', 'map', 'parallel', 'succeed', 'task', 'wait']);
  });

  it('produces IR that round-trips through JSON unchanged', () => {
    const p = everyKind();
    const copy = JSON.parse(JSON.stringify(p.ir)) as unknown;
    expect(copy).toStrictEqual(p.ir);
    const rebuilt = pipelineFromIR(JSON.parse(JSON.stringify(p.ir)), [generate, repair]);
    expect(rebuilt.ir).toStrictEqual(p.ir);
    expect([...rebuilt.stages.keys()].sort()).toEqual(['generate', 'repair']);
  });

  it('records stages, the input schema as JSON Schema and the catch default result path', () => {
    const p = everyKind();
    expect(p.kind).toBe('baton.pipeline');
    expect([...p.stages.keys()].sort()).toEqual(['generate', 'repair']);
    expect(p.ir).toMatchObject({ irVersion: 1, name: 'all-kinds', version: 3 });
    expect(p.ir.inputSchema).toMatchObject({ type: 'object', properties: { sections: { type: 'array' } } });
    const review = p.ir.steps.find((s) => s.id === 'review') as Extract<StepIR, { kind: 'approval' }>;
    expect(review.catch![0]!.resultPath).toBe('$.error');
    expect(review.gate).toBe('legal');
    const plan = p.ir.steps[0] as Extract<StepIR, { kind: 'task' }>;
    expect(plan).toMatchObject({ kind: 'task', id: 'plan', stage: 'generate', resultPath: '$.plan', timeoutMs: 5000, comment: 'plans the report' });
    expect(childBlocks(plan)).toHaveLength(1);
  });

  it('omits unset options instead of writing undefined', () => {
    const p = definePipeline({ name: 'min', version: 1 }).task('a', generate).approval('g', { timeoutSeconds: 1 }).build();
    expect(p.ir.steps).toEqual([
      { kind: 'task', id: 'a', stage: 'generate' },
      { kind: 'approval', id: 'g', gate: 'g', timeoutSeconds: 1 },
    ]);
    expect(p.ir.inputSchema).toBeUndefined();
    expect(p.input).toBeUndefined();
  });

  it('an approval gate records reviewerPath; build() refuses it beside reviewer', () => {
    const p = definePipeline({ name: 'r', version: 1 }).task('a', generate).approval('g', { timeoutSeconds: 1, reviewerPath: '$.reviewerId' }).build();
    expect(p.ir.steps[1]).toEqual({ kind: 'approval', id: 'g', gate: 'g', timeoutSeconds: 1, reviewerPath: '$.reviewerId' });
    const both = definePipeline({ name: 'r', version: 1 })
      .task('a', generate)
      .approval('g', { timeoutSeconds: 1, reviewer: 'alice', reviewerPath: '$.reviewerId' });
    expect(() => both.build()).toThrow('has both reviewer and reviewerPath');
  });

  it('refuses two different stages with the same name', () => {
    const twin = defineStage({
      ...generate,
      async run(input) {
        return input;
      },
    });
    expect(() => definePipeline({ name: 'x', version: 1 }).task('a', generate).task('b', twin)).toThrow('two different stages are named "generate"');
  });
});

describe('defineStage', () => {
  it('brands the stage and rejects bad names', () => {
    expect(generate.kind).toBe('baton.stage');
    expect(() => defineStage({ ...generate, name: 'has space' })).toThrow('stage name "has space" must be letters, digits, "-" or "_"');
  });

  it('carries usesModel on the stage and into the stage metadata engines and compilers read', () => {
    const modelStage = defineStage({ ...generate, name: 'model-stage', usesModel: true });
    expect(modelStage.usesModel).toBe(true);
    expect(generate.usesModel).toBeUndefined();
    const p = definePipeline({ name: 'm', version: 1 }).task('a', modelStage).task('b', generate).build();
    expect(stageMetaOf(p)['model-stage']).toMatchObject({ usesModel: true });
    expect(stageMetaOf(p).generate).not.toHaveProperty('usesModel');
  });
});
