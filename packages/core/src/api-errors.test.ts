import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { apiError, approvalGatesOf, assertGateOf } from './api-errors.js';
import { definePipeline } from './builder.js';
import { isStageError } from './errors.js';
import { defineStage } from './stage.js';

const echo = defineStage({ name: 'echo', version: 1, input: z.unknown(), output: z.unknown(), run: async (input) => input });

describe('apiError', () => {
  it('builds each refusal with its api code, the same message on every engine, and what it names in details', () => {
    const cases = [
      [apiError.runNotFound('r1'), 'RunNotFound', 'unknown run "r1"'],
      [apiError.pipelineNotFound('p', ['a', 'b']), 'PipelineNotFound', 'unknown pipeline "p"; this engine knows: a, b'],
      [apiError.pipelineNotFound('p', []), 'PipelineNotFound', 'unknown pipeline "p"; this engine knows: none'],
      [apiError.gateNotFound('r1', 'g', ['review']), 'GateNotFound', `run "r1" has no gate "g" (its pipeline's gates: review)`],
      [apiError.reviewTokenUsed('r1', 'review'), 'ReviewTokenUsed', 'review token for gate "review" of run "r1" was already used (a token decides once)'],
      [apiError.runNotRedrivable('r1', 'succeeded'), 'RunNotRedrivable', 'run "r1" has not failed (it succeeded); only a failed run can be redriven'],
      [apiError.runNotRedrivable('r1', 'in-progress'), 'RunNotRedrivable', 'run "r1" is still in progress; only a failed run can be redriven'],
      [apiError.resultTimedOut('r1', 50), 'ResultTimedOut', 'run "r1" did not end within 50 ms (it goes on; call result() again to wait more)'],
    ] as const;
    for (const [e, code, message] of cases) {
      expect(isStageError(e)).toBe(true);
      expect({ code: e.code, message: e.message }).toEqual({ code, message });
    }
    expect(apiError.gateNotOpen('r1', 'review').details).toEqual({ runId: 'r1', gate: 'review' });
    expect(apiError.runNotRedrivable('r1', 'invalid-input').details).toEqual({ runId: 'r1', reason: 'invalid-input' });
  });
});

describe('approvalGatesOf', () => {
  const pipeline = definePipeline({ name: 'gated', version: 1 })
    .task('first', echo)
    .approval('draft-review', { timeoutSeconds: 60 })
    .map('items', { items: '$.items' }, (item) => item.task('each', echo))
    .approval('final-review', { timeoutSeconds: 60 })
    .build();

  it('lists the gates of a pipeline in order; assertGateOf refuses any other name with GateNotFound', () => {
    expect(approvalGatesOf(pipeline.ir)).toEqual(['draft-review', 'final-review']);
    expect(() => assertGateOf({ run: 'r1', gate: 'final-review' }, pipeline.ir)).not.toThrow();
    expect(() => assertGateOf({ run: 'r1', gate: 'nope' }, pipeline.ir)).toThrow(
      expect.objectContaining({ code: 'GateNotFound', details: { runId: 'r1', gate: 'nope', gates: ['draft-review', 'final-review'] } }),
    );
  });
});
