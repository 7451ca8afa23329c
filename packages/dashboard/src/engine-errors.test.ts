import { ERROR_CODES, StageError } from '@baton/core';
import { API_ERROR_CODES, apiError } from '@baton/core/engine';
import { describe, expect, it } from 'vitest';
import { ENGINE_ERROR_ANSWERS, engineErrorAnswer } from './engine-errors.js';

describe('engine errors as HTTP answers', () => {
  it('maps each engine API refusal to its status: 404 missing, 403 not this review, 409 conflict, 504 timed out', () => {
    const statuses = Object.fromEntries(API_ERROR_CODES.map((code) => [code, ENGINE_ERROR_ANSWERS[code].status]));
    expect(statuses).toEqual({
      RunNotFound: 404,
      PipelineNotFound: 404,
      GateNotFound: 404,
      ReviewTokenRejected: 403,
      ReviewTokenUsed: 409,
      GateNotOpen: 409,
      RunNotRedrivable: 409,
      PipelineVersionNotLoaded: 409,
      ResultTimedOut: 504,
    });
    expect(Object.keys(ENGINE_ERROR_ANSWERS).sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it("shows the engine's message for a refusal, and hides it for an engine failure or an unknown error", () => {
    expect(engineErrorAnswer(apiError.reviewTokenUsed('r1', 'review'))).toEqual({
      status: 409,
      title: 'This review link was used',
      code: 'ReviewTokenUsed',
      message: 'review token for gate "review" of run "r1" was already used (a token decides once)',
    });
    expect(engineErrorAnswer(apiError.gateNotFound('r1', 'legal', ['review']))).toMatchObject({
      status: 404,
      message: expect.stringContaining('has no gate "legal"'),
    });
    expect(engineErrorAnswer(new StageError('InvalidInput', 'no section "x"'))).toMatchObject({ status: 400, message: 'no section "x"' });
    const internal = engineErrorAnswer(new StageError('StageFailed', 'ECONNREFUSED 10.0.0.7:5432 password=hunter2'));
    expect(internal.status).toBe(500);
    expect(internal.message).not.toContain('10.0.0.7');
    expect(engineErrorAnswer(new Error('socket hang up'))).toMatchObject({ status: 500, code: 'Error' });
    expect(engineErrorAnswer(new StageError('MyOwnCode', 'secret detail'))).toMatchObject({ status: 500, code: 'MyOwnCode' });
    expect(engineErrorAnswer(new StageError('MyOwnCode', 'secret detail')).message).not.toContain('secret');
  });
});
