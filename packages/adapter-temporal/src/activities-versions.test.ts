import { createMemoryBlobStore, definePipeline, defineStage } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createBatonActivities } from './activities.js';
import type { RunStageRequest } from './workflow/contract.js';

// The version checks answer before the activity touches its Temporal context, so they run here
// without a worker; the stage code itself never runs in these cases.
let ran = 0;
const step = (version: number) =>
  defineStage({
    name: 'step',
    version,
    input: z.unknown(),
    output: z.unknown(),
    async run(input) {
      ran++;
      return input;
    },
  });
const pipelineOn = (pipelineVersion: number, stageVersion: number) =>
  definePipeline({ name: 'pinned', version: pipelineVersion }).task('step', step(stageVersion)).build();
const request = (over: Partial<RunStageRequest>): RunStageRequest => ({
  runId: 'run-1',
  pipeline: 'pinned',
  stepPath: 'step',
  stage: 'step',
  input: {},
  attempt: 1,
  ...over,
});

describe('the stage activity runs only the stage version the run is pinned to', () => {
  it('a worker whose stage has another version refuses the attempt, typed, without running it', async () => {
    const activities = createBatonActivities({ pipelines: [pipelineOn(1, 2)], blobs: createMemoryBlobStore() });
    const result = await activities.batonRunStage(request({ pipelineVersion: 1, stageVersion: 1 }));
    expect(result).toMatchObject({
      ok: false,
      error: {
        code: 'PipelineVersionNotLoaded',
        retryable: false,
        message: expect.stringContaining('stage "step" is at version 2 on this worker, the run\'s is 1'),
      },
    });
    expect(ran).toBe(0);
  });

  it("a worker without the run's pipeline version refuses, naming the versions it holds", async () => {
    const activities = createBatonActivities({ pipelines: [pipelineOn(2, 1), pipelineOn(3, 1)], blobs: createMemoryBlobStore() });
    const result = await activities.batonRunStage(request({ pipelineVersion: 1, stageVersion: 1 }));
    expect(result).toMatchObject({
      ok: false,
      error: { code: 'PipelineVersionNotLoaded', details: { pipeline: 'pinned', version: 1, loaded: [2, 3], runId: 'run-1' } },
    });
    expect(ran).toBe(0);
  });
});
