import { createLocalEngine, definePipeline, defineStage, type Engine } from '@baton/core';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createStepFunctionsLocalEngine } from './engine.js';

const part = defineStage({
  name: 'part',
  version: 1,
  input: z.object({ n: z.number(), tag: z.string() }),
  output: z.object({ tag: z.string(), n: z.number() }),
  async run(input) {
    return input;
  },
});
const bump = defineStage({
  name: 'bump',
  version: 1,
  input: z.object({ n: z.number() }),
  output: z.object({ n: z.number() }),
  async run({ n }) {
    return { n: n + 1 };
  },
});

// a parallel in a map item, its branches with a task, a loop (counter form: more than 3 iterations; `until` never
// holds, so all 6 run) and a nested parallel
const pipeline = definePipeline({ name: 'paths', version: 1, input: z.object({ items: z.array(z.number()) }) })
  .map('sections', { items: '$.items', itemSelector: { 'n.$': '$$.Map.Item.Value' }, resultPath: '$.sections' }, (item) =>
    item.parallel('branches', { resultPath: '$.branches' }, [
      (b) => b.task('left', part, { input: { 'n.$': '$.n', tag: 'left' }, resultPath: '$.left' }),
      (b) =>
        b
          .loop('spin', { until: { path: '$.last.n', op: 'gte', value: 5 }, maxIterations: 6 }, (l) =>
            l.task('count', bump, { input: { 'n.$': '$.n' }, resultPath: '$.last' }),
          )
          .parallel('inner', { resultPath: '$.inner' }, [(c) => c.task('deep', part, { input: { 'n.$': '$.n', tag: 'deep' } })]),
    ]),
  )
  .build();

const stepPaths = async (engine: Engine): Promise<{ paths: string[]; output: unknown }> => {
  const { runId } = await engine.start('paths', { items: [0, 3] });
  const outcome = await engine.result(runId);
  if (outcome.status !== 'succeeded') throw new Error(`${engine.name}: ${JSON.stringify(outcome)}`);
  const { attempts } = await engine.status(runId);
  return { paths: [...new Set(attempts.map((a) => a.stepPath))].sort(), output: outcome.status === 'succeeded' ? outcome.output : undefined };
};

describe('step paths of a parallel inside a map item', { timeout: 60_000 }, () => {
  const local = createLocalEngine({ pipelines: [pipeline] });
  const sfn = createStepFunctionsLocalEngine({ pipelines: [pipeline] });
  afterAll(async () => {
    await local.close();
    await sfn.close();
  });

  it("are the interpreter's on Step Functions: the item prefix, the branch, the loop iteration", async () => {
    const interpreted = await stepPaths(local);
    const compiled = await stepPaths(sfn);
    expect(compiled.paths).toEqual(interpreted.paths);
    // the compiled counter loop keeps its counter in the state (`loops`, documented): the rest is the interpreter's
    expect(JSON.parse(JSON.stringify(compiled.output, (k, v: unknown) => (k === 'loops' ? undefined : v)))).toEqual(interpreted.output);
    expect(compiled.paths).toContain('sections[1]/branches.0/left');
    expect(compiled.paths).toContain('sections[0]/branches.1/spin@4/count');
    expect(compiled.paths).toContain('sections[1]/branches.1/inner.0/deep');
    expect(compiled.paths.some((p) => p.startsWith('branches.'))).toBe(false);
  });
});
