import { createLocalEngine, createMemoryBlobStore, defineStage, definePipeline, isBlobRef, type RunOutcome } from '@baton/core';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createStageHandler } from '../lambda/handler.js';
import { createStepFunctionsLocalEngine } from './engine.js';

const THRESHOLD = 1024;
const Section = z.object({ index: z.number(), text: z.string() });
const plan = defineStage({
  name: 'plan-big',
  version: 1,
  input: z.object({ n: z.number() }),
  output: z.object({ title: z.string(), sections: z.array(Section) }),
  async run({ n }) {
    return { title: 't'.repeat(3000), sections: Array.from({ length: n }, (_, index) => ({ index, text: 's'.repeat(100) })) };
  },
});
const write = defineStage({
  name: 'write-section',
  version: 1,
  input: Section,
  output: z.object({ index: z.number(), length: z.number() }),
  async run(s) {
    return { index: s.index, length: s.text.length };
  },
});
const pipeline = definePipeline({ name: 'big-plan', version: 1, input: z.object({ n: z.number() }) })
  .task('plan', plan, { input: { 'n.$': '$.n' }, resultPath: '$.plan' })
  .map('sections', { items: '$.plan.sections', resultPath: '$.written' }, (b) => b.task('write', write))
  .build();

describe('map items produced by a claim-checked stage output', { timeout: 60_000 }, () => {
  const sfn = createStepFunctionsLocalEngine({ pipelines: [pipeline], claimCheckThreshold: THRESHOLD });
  const interpreter = createLocalEngine({ pipelines: [pipeline], claimCheckThreshold: THRESHOLD });
  afterAll(async () => {
    await sfn.close();
    await interpreter.close();
  });

  it('the producing Lambda keeps the items inline, so the Map iterates them as the interpreter does', async () => {
    let sfnRun = '';
    const run = async (e: typeof sfn | typeof interpreter): Promise<RunOutcome> => {
      const { runId } = await e.start('big-plan', { n: 30 });
      if (e === sfn) sfnRun = runId;
      return e.result(runId, { timeoutMs: 30_000 });
    };
    const [compiled, interpreted] = await Promise.all([run(sfn), run(interpreter)]);
    expect(interpreted.status).toBe('succeeded');
    expect(compiled.status, JSON.stringify(compiled)).toBe('succeeded');
    type Out = { plan: { title: unknown; sections: unknown }; written: unknown };
    const out = (o: RunOutcome): Out | undefined => (o.status === 'succeeded' ? (o.output as Out) : undefined);
    expect(out(compiled)!.written).toEqual(out(interpreted)!.written);
    expect(out(compiled)!.written).toHaveLength(30);
    // result() answers values on every engine (7b23c67); the run's state keeps the items plain
    // JSON and the rest of the output claim-checked
    const state = (await sfn.status(sfnRun)).output as Out;
    expect(Array.isArray(state.plan.sections)).toBe(true);
    expect(isBlobRef(state.plan.title)).toBe(true);
    expect(isBlobRef(out(compiled)!.plan.title)).toBe(false);
  });

  it('without keepInline the same output would reach the state as blob references', async () => {
    const blobs = createMemoryBlobStore();
    const handler = createStageHandler({ stages: plan, blobs, claimCheckThreshold: THRESHOLD });
    const base = { stage: 'plan-big', stepPath: 'plan', executionId: 'arn:aws:states:eu-west-1:1:execution:big-plan:run-1', retryCount: 0, input: { n: 30 } };
    const plain = (await handler(base)) as { sections: unknown };
    expect(isBlobRef(plain.sections)).toBe(true);
    const kept = (await handler({ ...base, keepInline: ['$.sections'] })) as { sections: unknown[]; title: unknown };
    expect(kept.sections).toHaveLength(30);
    expect(isBlobRef(kept.title)).toBe(true);
    // a whole output stored as one reference is opened one level, its other fields offloaded again
    const tiny = createStageHandler({ stages: plan, blobs, claimCheckThreshold: 64 });
    const whole = (await tiny({ ...base, keepInline: ['$.sections'] })) as { sections: unknown[]; title: unknown };
    expect(whole.sections).toHaveLength(30);
    expect(isBlobRef(whole.title)).toBe(true);
  });
});
