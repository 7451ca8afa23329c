import { afterEach, describe, expect, it } from 'vitest';
import { conformancePipelines } from '../testkit/pipelines.js';
import { createProbeDir } from '../testkit/probe.js';
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
});
