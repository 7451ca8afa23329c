// The code blocks of packages/core/README.md, each between `// #region readme` and
// `// #endregion` (imports from './index.js' stand for '@baton/core'): the first test checks that
// the README's blocks are these regions, in order, so the README cannot drift from code that
// compiles (typecheck) and runs (the tests below, which assert what the README says of it).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ModelClient } from './index.js';
// #region readme
import { z } from 'zod';
import { createLocalEngine, definePipeline, defineStage, isStageError, StageError, type ReviewNotice } from './index.js';
import { runConformance } from './testkit/index.js';
// #endregion

const README = new URL('../README.md', import.meta.url);
const SELF = new URL(import.meta.url);

/** The README's `ts` code blocks and this file's regions, both dedented, imports pointing at the package. */
function blocks(): { readme: string[]; regions: string[] } {
  const readme = [...readFileSync(README, 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!.trimEnd());
  const regions = [...readFileSync(SELF, 'utf8').matchAll(/\/\/ #region readme\n([\s\S]*?)\n[ ]*\/\/ #endregion/g)].map((m) =>
    dedent(m[1]!).replaceAll("from './index.js'", "from '@baton/core'").replaceAll("from './testkit/index.js'", "from '@baton/core/testkit'"),
  );
  return { readme, regions };
}

function dedent(text: string): string {
  const lines = text.split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length));
  return lines
    .map((l) => l.slice(indent))
    .join('\n')
    .trimEnd();
}

describe('packages/core/README.md', () => {
  it('its code blocks are the regions of this file, in order', () => {
    const { readme, regions } = blocks();
    expect(readme.length).toBeGreaterThan(5);
    expect(readme).toEqual(regions);
  });

  it('the smallest program runs', async () => {
    // #region readme
    const upper = defineStage({
      name: 'upper',
      version: 1,
      input: z.object({ text: z.string() }),
      output: z.object({ text: z.string() }),
      async run(input) {
        return { text: input.text.toUpperCase() };
      },
    });

    const hello = definePipeline({ name: 'hello', version: 1, input: z.object({ text: z.string() }) })
      .task('shout', upper, { input: { 'text.$': '$.text' }, resultPath: '$.shouted' })
      .build();

    const engine = createLocalEngine({ pipelines: [hello] }); // add `dir: '.baton'` for a durable journal
    const { runId } = await engine.start('hello', { text: 'hi' });
    const outcome = await engine.result(runId);
    // outcome: { status: 'succeeded', output: { text: 'hi', shouted: { text: 'HI' } } }
    await engine.close();
    // #endregion
    expect(outcome).toEqual({ status: 'succeeded', output: { text: 'hi', shouted: { text: 'HI' } } });
  });

  it('a stage sees its context', async () => {
    // #region readme
    const draft = defineStage({
      name: 'draft',
      version: 2,
      description: 'Drafts one section with the model.',
      input: z.object({ title: z.string() }),
      output: z.object({ title: z.string(), text: z.string(), at: z.string() }),
      retry: [{ errors: ['ThrottlingException', 'ModelErrorException'], intervalMs: 2000, backoffRate: 2, maxAttempts: 5, jitter: 'FULL', maxDelayMs: 60_000 }],
      timeoutMs: 120_000,
      usesModel: true,
      throws: ['SectionEmpty'],
      async run(input, ctx) {
        ctx.log.info('drafting', { title: input.title, attempt: ctx.attempt });
        const answer = await ctx.model.complete({ messages: [{ role: 'user', content: `Write "${input.title}".` }] }, { signal: ctx.signal });
        if (!answer.text.trim()) throw new StageError('SectionEmpty', `no text for "${input.title}"`, { retryable: true });
        await ctx.blobs.put(`runs/${ctx.runId}/${ctx.stepPath}.txt`, answer.text); // deterministic key: a re-run overwrites
        return { title: input.title, text: answer.text, at: ctx.stepPath };
      },
    });
    // #endregion
    // a model that answers with the prompt
    const model: ModelClient = {
      modelId: 'echo',
      complete: async (r) => ({ text: r.messages[0]!.content, modelId: 'echo', usage: { inputTokens: 1, outputTokens: 1 }, latencyMs: 0 }),
    };
    const pipeline = definePipeline({ name: 'one-draft', version: 1 }).task('draft', draft, { resultPath: '$.section' }).build();
    const engine = createLocalEngine({ pipelines: [pipeline], model });
    const { runId } = await engine.start('one-draft', { title: 'Intro' });
    expect(await engine.result(runId)).toEqual({
      status: 'succeeded',
      output: { title: 'Intro', section: { title: 'Intro', text: 'Write "Intro".', at: 'draft' } },
    });
    await engine.close();
  });
});

describe('core README: the steps and the state', () => {
  const add = defineStage({
    name: 'add',
    version: 1,
    input: z.object({ n: z.number(), by: z.number().default(1) }),
    output: z.object({ n: z.number() }),
    async run(input) {
      return { n: input.n + input.by };
    },
  });

  it('every builder step in one pipeline', async () => {
    // #region readme
    const check = defineStage({
      name: 'check',
      version: 1,
      input: z.object({ text: z.string() }),
      output: z.object({ words: z.number() }),
      async run(input) {
        if (input.text.includes('TODO')) throw new StageError('ValidationFailed', 'draft has a TODO', { details: { word: 'TODO' } });
        return { words: input.text.split(/\s+/).length };
      },
    });

    const tour = definePipeline({
      name: 'tour',
      version: 1,
      input: z.object({ texts: z.array(z.string()), n: z.number(), count: z.object({ n: z.number() }) }),
    })
      // a map: one sub-pipeline per item, in item order; failed items are tolerated up to the limit
      .map(
        'each',
        { items: '$.texts', itemSelector: { 'text.$': '$$.Map.Item.Value' }, maxConcurrency: 2, toleratedFailureCount: 1, resultPath: '$.checked' },
        (item) => item.task('check', check),
      )
      // a parallel: every branch gets the whole state; the output is the array of branch outputs
      .parallel('both', { resultPath: '$.sums' }, [
        (b) => b.task('plus-one', add, { input: { 'n.$': '$.n' } }),
        (b) => b.task('plus-ten', add, { input: { 'n.$': '$.n', by: 10 } }),
      ])
      // a choice: the first branch whose predicate holds; `otherwise` when none does
      .choice('big', [{ when: { path: '$.sums[1].n', op: 'gte', value: 100 }, then: (b) => b.succeed('done-early') }], (b) => b.wait('pause', { seconds: 0 }))
      // a loop: the body runs, then `until` is checked; at most `maxIterations` bodies
      .loop('grow', { until: { path: '$.count.n', op: 'gte', value: 3 }, maxIterations: 5 }, (b) =>
        b.task('inc', add, { input: { 'n.$': '$.count.n' }, resultPath: '$.count' }),
      )
      .choice(
        'sane',
        [{ when: { path: '$.count.n', op: 'lt', value: 3 }, then: (b) => b.fail('too-small', { error: 'CountTooSmall', cause: 'the loop ended early' }) }],
        (b) => b.succeed('ok'),
      )
      .build();

    const engine = createLocalEngine({ pipelines: [tour] });
    const { runId } = await engine.start('tour', { texts: ['a short draft', 'TODO: write'], n: 1, count: { n: 0 } });
    const outcome = await engine.result(runId);
    // outcome.output.checked: [{ status: 'succeeded', output: { words: 3 } },
    //                          { status: 'failed', error: { code: 'ValidationFailed', message: 'draft has a TODO', retryable: false, details: { word: 'TODO' } } }]
    // outcome.output.sums:    [{ n: 2 }, { n: 11 }]
    // outcome.output.count:   { n: 3 }
    await engine.close();
    // #endregion
    expect(outcome).toEqual({
      status: 'succeeded',
      output: {
        texts: ['a short draft', 'TODO: write'],
        n: 1,
        count: { n: 3 },
        checked: [
          { status: 'succeeded', output: { words: 3 } },
          { status: 'failed', error: { code: 'ValidationFailed', message: 'draft has a TODO', retryable: false, details: { word: 'TODO' } } },
        ],
        sums: [{ n: 2 }, { n: 11 }],
      },
    });
  });

  it('a choice without otherwise fails States.NoChoiceMatched when no branch matches', async () => {
    // #region readme
    const strict = definePipeline({ name: 'strict-route', version: 1 })
      .choice('route', [{ when: { path: '$.kind', op: 'eq', value: 'report' }, then: (b) => b.succeed('is-report') }])
      .build();
    // a run of { kind: 'memo' } fails:
    // { code: 'States.NoChoiceMatched', message: 'choice "route": no branch matched and there is no otherwise', retryable: false }
    // #endregion
    const engine = createLocalEngine({ pipelines: [strict] });
    const { runId } = await engine.start('strict-route', { kind: 'memo' });
    expect(await engine.result(runId)).toEqual({
      status: 'failed',
      error: { code: 'States.NoChoiceMatched', message: 'choice "route": no branch matched and there is no otherwise', retryable: false },
    });
    await engine.close();
  });

  it('a loop checks until after its body; its steps carry the iteration in their step path', async () => {
    // #region readme
    const bump = defineStage({
      name: 'bump',
      version: 1,
      input: z.object({ n: z.number() }),
      output: z.object({ n: z.number(), at: z.string() }),
      async run(input, ctx) {
        return { n: input.n + 1, at: ctx.stepPath };
      },
    });
    const counting = definePipeline({ name: 'counting', version: 1 })
      .loop('count', { until: { path: '$.n', op: 'gte', value: 3 }, maxIterations: 10 }, (b) => b.task('bump', bump, { input: { 'n.$': '$.n' } }))
      .build();
    // { n: 0 } ends as { n: 3, at: 'count@2/bump' }: three bodies, iterations 0, 1, 2
    // { n: 7 } ends as { n: 8, at: 'count@0/bump' }: the body runs once even though `until` held before it
    // #endregion
    const engine = createLocalEngine({ pipelines: [counting] });
    const a = await engine.start('counting', { n: 0 });
    const b = await engine.start('counting', { n: 7 });
    expect(await engine.result(a.runId)).toEqual({ status: 'succeeded', output: { n: 3, at: 'count@2/bump' } });
    expect(await engine.result(b.runId)).toEqual({ status: 'succeeded', output: { n: 8, at: 'count@0/bump' } });
    await engine.close();
  });

  it('a caught error is { code, message, retryable, details } at the catch resultPath', async () => {
    // #region readme
    const check = defineStage({
      name: 'strict',
      version: 1,
      input: z.object({ text: z.string() }),
      output: z.object({ ok: z.boolean() }),
      throws: ['ValidationFailed'],
      async run() {
        throw new StageError('ValidationFailed', 'no citations', { details: { missing: 2 } });
      },
    });
    const fix = defineStage({
      name: 'fix',
      version: 1,
      input: z.object({ code: z.string(), message: z.string(), retryable: z.boolean(), details: z.unknown().optional() }),
      output: z.object({ fixed: z.string() }),
      async run(input) {
        return { fixed: `${input.code}: ${input.message}` };
      },
    });
    const guarded = definePipeline({ name: 'guarded', version: 1 })
      .task('check', check, {
        input: { 'text.$': '$.text' },
        resultPath: '$.checked',
        catch: [{ errors: ['ValidationFailed'], resultPath: '$.problem', then: (b) => b.task('fix', fix, { input: '$.problem', resultPath: '$.fixed' }) }],
      })
      .build();
    // a run of { text: 'x' } ends with
    // { text: 'x', problem: { code: 'ValidationFailed', message: 'no citations', retryable: false, details: { missing: 2 } },
    //   fixed: { fixed: 'ValidationFailed: no citations' } }
    // #endregion
    const engine = createLocalEngine({ pipelines: [guarded] });
    const { runId } = await engine.start('guarded', { text: 'x' });
    expect(await engine.result(runId)).toEqual({
      status: 'succeeded',
      output: {
        text: 'x',
        problem: { code: 'ValidationFailed', message: 'no citations', retryable: false, details: { missing: 2 } },
        fixed: { fixed: 'ValidationFailed: no citations' },
      },
    });
    await engine.close();
  });

  it('a loop that reaches maxIterations ends without failing', async () => {
    const loop = definePipeline({ name: 'capped', version: 1 })
      .loop('spin', { until: { path: '$.n', op: 'gte', value: 100 }, maxIterations: 2 }, (b) => b.task('add', add, { input: { 'n.$': '$.n' } }))
      .build();
    const engine = createLocalEngine({ pipelines: [loop] });
    const { runId } = await engine.start('capped', { n: 0 });
    expect(await engine.result(runId)).toEqual({ status: 'succeeded', output: { n: 2 } });
    await engine.close();
  });
});

describe('core README: approval and the engine API errors', () => {
  it('an approval writes { approved, reviewer, comment, sections }; a used token is ReviewTokenUsed', async () => {
    const publish = defineStage({
      name: 'publish',
      version: 1,
      input: z.object({ draft: z.string() }),
      output: z.object({ published: z.string() }),
      async run(input) {
        return { published: input.draft };
      },
    });
    // #region readme
    const reviewed = definePipeline({ name: 'reviewed', version: 1, input: z.object({ draft: z.string(), reviewer: z.string() }) })
      .approval('editor', { timeoutSeconds: 3 * 24 * 3600, reviewerPath: '$.reviewer', payload: { 'draft.$': '$.draft' }, resultPath: '$.decision' })
      .task('publish', publish, { input: { 'draft.$': '$.draft' }, resultPath: '$.out' })
      .build();

    let opened!: (notice: ReviewNotice) => void;
    const notice = new Promise<ReviewNotice>((resolve) => (opened = resolve));
    const engine = createLocalEngine({ pipelines: [reviewed], notifier: (n) => opened(n) });
    const { runId } = await engine.start('reviewed', { draft: 'Q3 summary', reviewer: 'alice' });
    const { token, payload } = await notice; // payload: { draft: 'Q3 summary' }
    await engine.approve(runId, 'editor', { token, reviewer: 'alice', comment: 'ship it' });
    const outcome = await engine.result(runId);
    // outcome.output.decision: { approved: true, reviewer: 'alice', comment: 'ship it', sections: {} }

    const refused = await engine.approve(runId, 'editor', { token, reviewer: 'alice' }).catch((e: unknown) => (isStageError(e) ? e.code : 'not a StageError'));
    // refused: 'ReviewTokenUsed' (a token decides once)
    await engine.close();
    // #endregion
    expect(payload).toEqual({ draft: 'Q3 summary' });
    expect(refused).toBe('ReviewTokenUsed');
    expect(outcome).toEqual({
      status: 'succeeded',
      output: {
        draft: 'Q3 summary',
        reviewer: 'alice',
        decision: { approved: true, reviewer: 'alice', comment: 'ship it', sections: {} },
        out: { published: 'Q3 summary' },
      },
    });
    const again = createLocalEngine({ pipelines: [reviewed], notifier: (n) => opened(n) });
    await expect(again.status('no-such-run')).rejects.toMatchObject({ code: 'RunNotFound' });
    await again.close();
  });
});

/**
 * The README's kit block. It is compiled here (typecheck) but not called: calling it registers the
 * whole kit a second time; src/local/conformance.test.ts runs the kit on the local engine.
 */
export function registerLocalKit(): void {
  // #region readme
  runConformance({
    name: 'local',
    async setup({ pipelines, notifier, observer }) {
      const engine = createLocalEngine({ pipelines, notifier, observer });
      return { engine, close: () => engine.close() };
    },
    capabilities: { crashResume: false },
  });
  // #endregion
}
