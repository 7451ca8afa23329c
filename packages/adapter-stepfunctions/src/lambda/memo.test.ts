import { createMemoryBlobStore, defineStage } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { replayExecutionName, replayOf, runIdOf } from './event.js';
import { createStageHandler } from './handler.js';
import { MEMO_PREFIX } from './memo.js';

const MACHINE = 'arn:aws:states:eu-west-1:123456789012:execution:report';
const runs: string[] = [];
const upper = (version: number) =>
  defineStage({
    name: 'upper',
    version,
    input: z.object({ text: z.string() }),
    output: z.object({ text: z.string(), v: z.number() }),
    async run(input) {
      runs.push(input.text);
      return { text: input.text.toUpperCase(), v: version };
    },
  });

describe('replay execution names', () => {
  it('a replay <runId>.r<n> belongs to its run; run ids have no dot, so nothing else reads as a replay', () => {
    expect(replayExecutionName('rpt-7', 0)).toBe('rpt-7');
    expect(replayExecutionName('rpt-7', 2)).toBe('rpt-7.r2');
    expect(runIdOf(`${MACHINE}:rpt-7.r2`)).toBe('rpt-7');
    expect(replayOf(`${MACHINE}:rpt-7.r2`)).toBe(2);
    expect(runIdOf(`${MACHINE}:rpt-7`)).toBe('rpt-7');
    expect(replayOf(`${MACHINE}:rpt-7`)).toBe(0);
    expect(runIdOf(`${MACHINE}:rpt-7.r0`)).toBe('rpt-7.r0');
    expect(runIdOf(`${MACHINE}:rpt.rx`)).toBe('rpt.rx');
  });
});

describe('the step memo of deployed stage functions', () => {
  it('records each success; a replay returns the record without running the stage, unless its input or stage version changed', async () => {
    const blobs = createMemoryBlobStore();
    const v1 = createStageHandler({ stages: upper(1), blobs, memo: true });
    runs.length = 0;
    const first = await v1({ stage: 'upper', stepPath: 'sections[0]/upper', executionId: `${MACHINE}:rpt-7`, retryCount: 0, input: { text: 'a' } });
    expect(first).toEqual({ text: 'A', v: 1 });
    expect((await blobs.list(MEMO_PREFIX)).filter((k) => k.startsWith(`${MEMO_PREFIX}rpt-7/`))).toHaveLength(1);

    // the replay of the same step with the same input: the stage does not run
    const replayed = await v1({ stage: 'upper', stepPath: 'sections[0]/upper', executionId: `${MACHINE}:rpt-7.r1`, retryCount: 0, input: { text: 'a' } });
    expect(replayed).toEqual({ text: 'A', v: 1 });
    expect(runs).toEqual(['a']);
    // another input, another step, or a new stage version: runs again
    await v1({ stage: 'upper', stepPath: 'sections[0]/upper', executionId: `${MACHINE}:rpt-7.r1`, retryCount: 0, input: { text: 'b' } });
    await v1({ stage: 'upper', stepPath: 'sections[1]/upper', executionId: `${MACHINE}:rpt-7.r1`, retryCount: 0, input: { text: 'a' } });
    const v2 = createStageHandler({ stages: upper(2), blobs, memo: true });
    expect(await v2({ stage: 'upper', stepPath: 'sections[0]/upper', executionId: `${MACHINE}:rpt-7.r1`, retryCount: 0, input: { text: 'a' } })).toEqual({
      text: 'A',
      v: 2,
    });
    expect(runs).toEqual(['a', 'b', 'a', 'a']);
    // a first execution never reads the memo (it cannot have one of its own): the stage runs
    await v1({ stage: 'upper', stepPath: 'sections[0]/upper', executionId: `${MACHINE}:rpt-7`, retryCount: 1, input: { text: 'a' } });
    expect(runs).toHaveLength(5);
  });

  it('is off by default: no memo object is written', async () => {
    const blobs = createMemoryBlobStore();
    await createStageHandler({ stages: upper(1), blobs })({
      stage: 'upper',
      stepPath: 'upper',
      executionId: `${MACHINE}:rpt-8`,
      retryCount: 0,
      input: { text: 'a' },
    });
    expect(await blobs.list(MEMO_PREFIX)).toEqual([]);
  });
});
