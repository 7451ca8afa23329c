import { afterEach, describe, expect, it } from 'vitest';
import { conformancePipelines } from '../testkit/pipelines.js';
import { createProbeDir } from '../testkit/probe.js';
import { STEP_FUNCTIONS_LIMITS } from '../engine-limits.js';
import { createLocalEngine, type LocalEngine } from './engine.js';

let engine: LocalEngine | undefined;
afterEach(async () => {
  await engine?.close();
  engine = undefined;
});

describe('local engine emulating Step Functions: map results', () => {
  it('a map result over 256 KB fails States.DataLimitExceeded at the map, as the service fails the Map state; without emulation it is claim-checked whole', async () => {
    const items = Array.from({ length: 12 }, (_, i) => i);
    engine = createLocalEngine({ pipelines: conformancePipelines, emulate: 'stepfunctions' });
    const { runId } = await engine.start('kit-aggregate', { probe: createProbeDir(), items });
    const outcome = await engine.result(runId);
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'States.DataLimitExceeded' } });
    expect(outcome.status === 'failed' && outcome.error.message).toMatch(/^result of items is \d+ bytes, over Step Functions' 256 KB state limit/);
    const plain = createLocalEngine({ pipelines: conformancePipelines });
    const ok = await plain.start('kit-aggregate', { probe: createProbeDir(), items });
    expect(await plain.result(ok.runId)).toMatchObject({ status: 'succeeded', output: { consumed: { items: 12, intact: true } } });
    await plain.close();
  });

  it("limits are data: STEP_FUNCTIONS_LIMITS is what emulate stepfunctions sets, and another engine's limit is enforced with its own name", async () => {
    const items = Array.from({ length: 12 }, (_, i) => i);
    engine = createLocalEngine({ pipelines: conformancePipelines, limits: STEP_FUNCTIONS_LIMITS });
    const sfn = await engine.result((await engine.start('kit-aggregate', { probe: createProbeDir(), items })).runId);
    expect(sfn.status === 'failed' && sfn.error.message).toMatch(/^result of items is \d+ bytes, over Step Functions' 256 KB state limit/);
    const tight = createLocalEngine({ pipelines: conformancePipelines, limits: { engine: 'Tiny', maxStateBytes: 2048 } });
    const { runId } = await tight.start('kit-aggregate', { probe: createProbeDir(), items: [1] });
    expect(await tight.result(runId)).toMatchObject({ status: 'failed' });
    // the item's own output is over 2 KB: its task fails there, not retried, named after the engine
    const over = (await tight.status(runId)).attempts.filter((a) => a.error?.code === 'States.DataLimitExceeded');
    expect(over.length).toBeGreaterThan(0);
    expect(over[0]!.error).toMatchObject({ retryable: false, message: expect.stringMatching(/bytes, over Tiny's 2 KB state limit/) });
    await tight.close();
  });
});
