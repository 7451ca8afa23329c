import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePipeline } from '../builder.js';
import { defineStage } from '../stage.js';
import { conformancePipelines } from '../testkit/pipelines.js';
import { createProbeDir } from '../testkit/probe.js';
import { createMemoryBlobStore } from '../ports/blob-store.js';
import { STEP_FUNCTIONS_LIMITS } from '../engine-limits.js';
import { mapItemClaimCheckThresholds } from '../map-item-thresholds.js';
import { createLocalEngine, type LocalEngine } from './engine.js';

const aggregate = conformancePipelines.find((p) => p.name === 'kit-aggregate')!;
let engine: LocalEngine | undefined;
afterEach(async () => {
  await engine?.close();
  engine = undefined;
});

describe('local engine emulating Step Functions: map results', () => {
  it("the kit's aggregate runs as on the compiled machine: item tasks claim-check at the lowered threshold, so the map result stays under 256 KB", async () => {
    const items = Array.from({ length: 80 }, (_, i) => i);
    expect(mapItemClaimCheckThresholds(aggregate, STEP_FUNCTIONS_LIMITS)).toEqual({ items: 1024 });
    const sizes: number[] = [];
    const blobs = createMemoryBlobStore();
    const put = blobs.put.bind(blobs);
    blobs.put = async (key, data) => {
      sizes.push(typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength);
      return put(key, data);
    };
    engine = createLocalEngine({ pipelines: conformancePipelines, emulate: 'stepfunctions', blobs });
    const { runId } = await engine.start('kit-aggregate', { probe: createProbeDir(), items });
    expect(await engine.result(runId)).toMatchObject({ status: 'succeeded', output: { consumed: { items: 80, bytes: 80 * 30_000, intact: true } } });
    // each item's 30 KB text crossed the map as a reference (under the default 32 KB threshold it would stay in the
    // item), and the aggregate of references was small enough to stay in the state (no 2.4 MB blob)
    expect(sizes.filter((n) => n > 30_000 && n < 31_000)).toHaveLength(80);
    expect(Math.max(...sizes)).toBeLessThan(31_000);
  });

  it('a map result over 256 KB still fails States.DataLimitExceeded at the map, as the service fails the Map state; without emulation it is claim-checked whole', async () => {
    // 150 KB per item in 400-byte fields: each under the claim check's 512-byte floor, so nothing moves out at any threshold
    const pieces = defineStage({
      name: 'pieces',
      version: 1,
      input: z.number(),
      output: z.record(z.string(), z.string()),
      async run() {
        return Object.fromEntries(Array.from({ length: 375 }, (_, i) => [`p${i}`, 'x'.repeat(400)]));
      },
    });
    const wide = definePipeline({ name: 'wide', version: 1, input: z.array(z.number()) })
      .map('items', { items: '$', resultPath: '$.results' }, (b) => b.task('piece', pieces))
      .build();
    engine = createLocalEngine({ pipelines: [wide], emulate: 'stepfunctions' });
    const outcome = await engine.result((await engine.start('wide', [1, 2])).runId);
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'States.DataLimitExceeded', retryable: false } });
    expect(outcome.status === 'failed' && outcome.error.message).toMatch(/^result of items is \d+ bytes, over Step Functions' 256 KB state limit/);
    const plain = createLocalEngine({ pipelines: [wide] });
    expect(await plain.result((await plain.start('wide', [1, 2])).runId)).toMatchObject({ status: 'succeeded' });
    await plain.close();
  });

  it("limits are data: STEP_FUNCTIONS_LIMITS is what emulate stepfunctions sets, and another engine's limit is enforced with its own name", async () => {
    // the thresholds follow the limit: 3/4 of 2 KB over 12 items is under the 512-byte floor
    expect(mapItemClaimCheckThresholds(aggregate, { engine: 'Tiny', maxStateBytes: 2048 }, { expectedItems: { items: 12 } })).toEqual({ items: 512 });
    const items = Array.from({ length: 12 }, (_, i) => i);
    engine = createLocalEngine({ pipelines: conformancePipelines, limits: STEP_FUNCTIONS_LIMITS });
    const sfn = await engine.result((await engine.start('kit-aggregate', { probe: createProbeDir(), items })).runId);
    expect(sfn).toMatchObject({ status: 'succeeded', output: { consumed: { items: 12, intact: true } } });
  });
});
