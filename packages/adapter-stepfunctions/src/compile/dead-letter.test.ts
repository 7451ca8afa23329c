import { createProbeDir, conformancePipelines } from '@baton/core/testkit';
import { describe, expect, it } from 'vitest';
import { createStepFunctionsLocalEngine } from '../local/engine.js';
import { errorFromCause } from '../lambda/errors.js';
import { compileToAsl } from './compile.js';
import { DEAD_LETTER_STATE, FAILED_STATE, type DeadLetterMessage } from './dead-letter.js';
import { validateAsl } from './validate.js';

const QUEUE = '${dlq_url}';

describe('dead-letter route of failed runs', { timeout: 60_000 }, () => {
  it('every top-level Task, Map and Parallel ends on a States.ALL catcher to the route; no Fail state is left but the final one', () => {
    for (const pipeline of conformancePipelines) {
      const { definition } = compileToAsl(pipeline, { deadLetter: { queueUrl: QUEUE } });
      expect(validateAsl(definition).errors, pipeline.name).toEqual([]);
      const fails = Object.entries(definition.States).filter(([, s]) => s.Type === 'Fail');
      expect(
        fails.map(([n]) => n),
        pipeline.name,
      ).toEqual([FAILED_STATE]);
      expect(definition.States[FAILED_STATE]).toEqual({ Type: 'Fail', ErrorPath: '$.Error', CausePath: '$.Cause' });
      for (const [name, state] of Object.entries(definition.States)) {
        if (!['Task', 'Map', 'Parallel'].includes(state.Type) || name === DEAD_LETTER_STATE) continue;
        const last = (state.Catch as { ErrorEquals: string[]; Next: string }[]).at(-1)!;
        expect(last.ErrorEquals, `${pipeline.name}/${name}`).toEqual(['States.ALL']);
      }
      expect(definition.States[DEAD_LETTER_STATE]).toMatchObject({
        Resource: 'arn:aws:states:::sqs:sendMessage',
        Parameters: { QueueUrl: QUEUE },
        ResultPath: null,
        Next: FAILED_STATE,
      });
    }
  });

  it('a successful run crosses none of the added states', async () => {
    const plain = createStepFunctionsLocalEngine({ pipelines: conformancePipelines });
    const routed = createStepFunctionsLocalEngine({ pipelines: conformancePipelines, deadLetters: () => undefined });
    const input = { probe: createProbeDir(), items: [1, 2, 3, 4, 5], delayMs: 0, failIndexes: [] };
    const a = await plain.start('kit-scale', input);
    const b = await routed.start('kit-scale', { ...input, probe: createProbeDir() });
    expect((await plain.result(a.runId)).status).toBe('succeeded');
    expect((await routed.result(b.runId)).status).toBe('succeeded');
    expect(routed.transitions(b.runId)).toBe(plain.transitions(a.runId));
    await Promise.all([plain.close(), routed.close()]);
  });

  it('a failed run leaves its context on the queue and still fails with its own error', async () => {
    const messages: DeadLetterMessage[] = [];
    const engine = createStepFunctionsLocalEngine({ pipelines: conformancePipelines, deadLetters: (m) => void messages.push(m) });
    // a map item failing with no tolerance: the Map state fails
    const input = { probe: createProbeDir(), items: [0, 1, 2], delayMs: 0, failIndexes: [1] };
    const { runId } = await engine.start('kit-map-strict', input);
    const outcome = await engine.result(runId);
    expect(outcome.status).toBe('failed');
    expect(messages).toHaveLength(1);
    const [m] = messages;
    expect(m).toMatchObject({ runId, executionArn: expect.stringMatching(new RegExp(`:execution:kit-map-strict:${runId}$`)), failedStep: 'items', input });
    expect(Date.parse(m!.startedAt)).not.toBeNaN();
    if (outcome.status === 'failed') {
      expect(m!.error).toBe(outcome.error.code);
      expect(errorFromCause(m!.error, m!.cause)).toMatchObject({ code: outcome.error.code, message: outcome.error.message });
    }

    // over a map's tolerated failures: the compiled Fail state goes through the route too
    const over = await engine.start('kit-map-tolerated', { probe: createProbeDir(), items: [0, 1, 2, 3, 4], delayMs: 0, failIndexes: [1, 4] });
    const overOutcome = await engine.result(over.runId);
    expect(overOutcome.status === 'failed' && overOutcome.error.code).toBe('States.ExceedToleratedFailureThreshold');
    expect(messages[1]).toMatchObject({ runId: over.runId, error: 'States.ExceedToleratedFailureThreshold' });
    expect(messages[1]!.failedStep).toMatch(/^items/);
    await engine.close();
  });

  it('an undeliverable message still ends the run failed with its own error', async () => {
    const engine = createStepFunctionsLocalEngine({
      pipelines: conformancePipelines,
      deadLetters: () => {
        throw Object.assign(new Error('queue gone'), { name: 'SQS.QueueDoesNotExistException' });
      },
    });
    const { runId } = await engine.start('kit-map-strict', { probe: createProbeDir(), items: [0, 1], delayMs: 0, failIndexes: [0] });
    const outcome = await engine.result(runId);
    expect(outcome.status).toBe('failed');
    expect(outcome.status === 'failed' && outcome.error.code).not.toBe('SQS.QueueDoesNotExistException');
    await engine.close();
  });
});
