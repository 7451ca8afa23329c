import { createMemoryBlobStore, definePipeline, defineStage, isBlobRef } from '@baton/core';
import { sha256Hex } from '@baton/core/engine';
import { conformancePipelines, createProbeDir } from '@baton/core/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SFN_PAYLOAD_LIMIT } from '../compile/limits.js';
import { createStageHandler, type StageHandler } from '../lambda/handler.js';
import { createStepFunctionsLocalEngine } from './engine.js';

// kit scenario 40's pipeline: a map of items each just under the claim-check threshold, then a task reading them all
const aggregate = conformancePipelines.find((p) => p.name === 'kit-aggregate')!;
const ITEM_BYTES = 30_000;
const ITEMS = 20; // 20 × 30 KB = 600 KB of item results: over 256 KB, far under the 80 of the kit scenario

/** Every Lambda payload template of a definition (the `Payload` of each lambda:invoke Task). */
const payloadTasks = (definition: unknown): Record<string, unknown>[] => {
  const out: Record<string, unknown>[] = [];
  JSON.stringify(definition, (_k, v: unknown) => {
    if (v && typeof v === 'object' && 'Payload' in v) out.push((v as { Payload: Record<string, unknown> }).Payload);
    return v;
  });
  return out;
};

/** `n` characters of text. */
const repeat = defineStage({
  name: 'repeat',
  version: 1,
  input: z.object({ n: z.number() }),
  output: z.object({ text: z.string() }),
  async run({ n }) {
    return { text: 'y'.repeat(n) };
  },
});

describe('a map whose aggregated result passes 256 KB (Step Functions builds the Map output itself)', { timeout: 120_000 }, () => {
  const blobs = createMemoryBlobStore();
  const stages = [...aggregate.stages.values()];
  const engine = createStepFunctionsLocalEngine({ pipelines: [aggregate], blobs });
  // the same machine with the stage Lambda blind to the per-item threshold: what the compiler emitted before
  const inner = createStageHandler({ stages, blobs, attemptOf: (e) => e.retryCount + 1 });
  const unfixed: StageHandler = (event, context) => {
    const { claimCheckThreshold: _dropped, ...rest } = event;
    return inner(rest, context);
  };
  const before = createStepFunctionsLocalEngine({ pipelines: [aggregate], blobs, lambdas: { stage: unfixed } });
  afterAll(async () => {
    await engine.close();
    await before.close();
  });

  it('compiles the item tasks with a lowered claim-check threshold (item count unknown: 1 KB), the consumer without', () => {
    const tasks = payloadTasks(engine.machine('kit-aggregate').definition);
    const big = tasks.find((t) => t.stage === 'kit-big');
    const consume = tasks.find((t) => t.stage === 'kit-consume-all');
    expect(big).toMatchObject({ claimCheckThreshold: 1024, keepKeys: true });
    expect(consume).not.toHaveProperty('claimCheckThreshold');
  });

  it('succeeds: each item result crosses the Map as a reference, the consumer reads every item whole', async () => {
    const probe = createProbeDir();
    const { runId } = await engine.start('kit-aggregate', { probe, items: Array.from({ length: ITEMS }, (_, i) => i) });
    const outcome = await engine.result(runId);
    expect(outcome).toMatchObject({ status: 'succeeded', output: { consumed: { items: ITEMS, bytes: ITEMS * ITEM_BYTES, intact: true } } });
    // result() answers values: the items' texts are back, as on every engine
    const results = (outcome as { output: { results: { status: string; output: { text: string; sha256: string } }[] } }).output.results;
    expect(results.map((r) => r.output.text.length)).toEqual(Array.from({ length: ITEMS }, () => ITEM_BYTES));
    expect(results.every((r) => r.output.sha256 === sha256Hex(r.output.text))).toBe(true);
    // what the state held after the Map: references, far under the limit
    const held = (await engine.status(runId)).output as { results: { output: { text: unknown } }[] };
    expect(held.results.every((r) => isBlobRef(r.output.text))).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(held))).toBeLessThan(SFN_PAYLOAD_LIMIT / 4);
    // no check state of the local layer is counted as a transition: 1 Map + 20 items + consume
    expect(engine.transitions(runId)).toBe(1 + ITEMS + 1);
  });

  it('without the per-item threshold the same machine fails States.DataLimitExceeded at the Map, as on AWS, and the consumer never runs', async () => {
    const probe = createProbeDir();
    const { runId } = await before.start('kit-aggregate', { probe, items: Array.from({ length: ITEMS }, (_, i) => i) });
    const outcome = await before.result(runId);
    expect(outcome).toMatchObject({
      status: 'failed',
      error: {
        code: 'States.DataLimitExceeded',
        message: expect.stringMatching(/"items" returned an output of \d+ bytes, over the 256 KB state limit/),
        retryable: false,
      },
    });
    const status = await before.status(runId);
    expect(status.attempts.filter((a) => a.stepPath === 'consume')).toEqual([]);
    expect(status.attempts.filter((a) => a.status === 'succeeded')).toHaveLength(ITEMS);
  });
});

describe('a Parallel whose branches together pass 256 KB', { timeout: 60_000 }, () => {
  const pipeline = definePipeline({ name: 'wide', version: 1, input: z.object({ n: z.number() }) })
    .parallel('both', { resultPath: '$.both' }, [
      (b) => b.task('a', repeat, { input: { 'n.$': '$.n' }, resultPath: '$.a' }),
      (b) => b.task('b', repeat, { input: { 'n.$': '$.n' }, resultPath: '$.b' }),
    ])
    .build();
  // a claim-check threshold above the branch outputs: each branch is under 256 KB, both together are not
  const engine = createStepFunctionsLocalEngine({ pipelines: [pipeline], claimCheckThreshold: 200_000 });
  afterAll(() => engine.close());

  it('fails States.DataLimitExceeded naming the Parallel state; under the limit it succeeds', async () => {
    const over = await engine.result((await engine.start('wide', { n: 150_000 })).runId);
    expect(over).toMatchObject({ status: 'failed', error: { code: 'States.DataLimitExceeded', message: expect.stringContaining('"both"') } });
    const under = await engine.result((await engine.start('wide', { n: 50_000 })).runId);
    expect(under.status).toBe('succeeded');
  });
});

describe('a task output over 256 KB under a States.ALL catcher', { timeout: 60_000 }, () => {
  const pipeline = definePipeline({ name: 'caught-wide', version: 1, input: z.object({ n: z.number() }) })
    .task('write', repeat, { input: { 'n.$': '$.n' }, resultPath: '$.out', catch: [{ errors: ['States.ALL'], resultPath: '$.caught', then: (b) => b }] })
    .build();
  // a claim-check threshold above the output: it reaches the state whole
  const engine = createStepFunctionsLocalEngine({ pipelines: [pipeline], claimCheckThreshold: 400_000 });
  afterAll(() => engine.close());

  it('is not caught: States.DataLimitExceeded is terminal on Step Functions, the run fails with it', async () => {
    const outcome = await engine.result((await engine.start('caught-wide', { n: 300_000 })).runId);
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'States.DataLimitExceeded' } });
    // the States.ALL catcher is there; the guard before it re-raises the terminal code
    const caughtStates = engine.machine('caught-wide').definition.States.write!.Catch as { ErrorEquals: string[] }[];
    expect(caughtStates.at(-1)!.ErrorEquals).toEqual(['States.ALL']);
    expect(caughtStates.slice(0, -1).flatMap((c) => c.ErrorEquals)).toContain('States.DataLimitExceeded');
  });
});
