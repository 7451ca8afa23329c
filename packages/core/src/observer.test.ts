import { describe, expect, it } from 'vitest';
import { StageError, serializeError } from './errors.js';
import { attemptFinishedEvent, attemptStartedEvent } from './observer.js';

const ref = { runId: 'r1', stepPath: 'sections[2]/generate', stage: 'generate', attempt: 3 };
const at = '2026-12-06T03:00:00.000Z';

describe('attempt events, built in one place for every engine', () => {
  it('attempt-started names the run, the step path, the stage and the attempt', () => {
    expect(attemptStartedEvent(ref, at)).toEqual({ type: 'attempt-started', ...ref, at });
  });

  it('a succeeded attempt carries its metrics; a failed one its error and metrics', () => {
    const metrics = { durationMs: 12, modelCalls: 1, inputTokens: 800, outputTokens: 200, modelLatencyMs: 10 };
    expect(attemptFinishedEvent(ref, { ok: true, metrics }, at)).toEqual({ type: 'attempt-finished', ...ref, status: 'succeeded', metrics, at });
    const error = serializeError(new StageError('ThrottlingException', 'slow down'));
    const failed = attemptFinishedEvent(ref, { ok: false, error, metrics }, at);
    expect(failed).toEqual({ type: 'attempt-finished', ...ref, status: 'failed', error, metrics, at });
  });

  it('an outcome without metrics (a Lambda answer seen from the machine) gets no metrics key, and a success no error key', () => {
    const ok = attemptFinishedEvent(ref, { ok: true }, at);
    expect(Object.keys(ok).sort()).toEqual(['at', 'attempt', 'runId', 'stage', 'status', 'stepPath', 'type']);
    const error = serializeError(new StageError('StageFailed', 'bad'));
    expect(attemptFinishedEvent(ref, { ok: false, error }, at)).not.toHaveProperty('metrics');
  });
});
