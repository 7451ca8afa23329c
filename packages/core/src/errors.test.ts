import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import {
  API_ERROR_CODES,
  ERROR_CODES,
  FATAL_CODES,
  NEVER_RETRIED,
  StageError,
  defaultRetryable,
  deserializeError,
  errorClassOf,
  isErrorCode,
  isFatalCode,
  isSerializedError,
  isStageError,
  serializeError,
  toStageError,
} from './errors.js';

describe('StageError', () => {
  it('carries code, retryable, details and cause; name is the code', () => {
    const cause = new Error('socket hang up');
    const e = new StageError('ThrottlingException', 'slow down', { details: { retryAfter: 2 }, cause });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('ThrottlingException');
    expect(e.code).toBe('ThrottlingException');
    expect(e.retryable).toBe(true);
    expect(e.details).toEqual({ retryAfter: 2 });
    expect(e.cause).toBe(cause);
    expect(new StageError('X', 'm').cause).toBeUndefined();
    expect(new StageError('ThrottlingException', 'm', { retryable: false }).retryable).toBe(false);
  });

  it('defaults retryable from the code table; unknown codes are retryable unless never retried', () => {
    for (const [code, { retryable }] of Object.entries(ERROR_CODES)) expect(defaultRetryable(code)).toBe(retryable);
    expect(defaultRetryable('MyOwnCode')).toBe(true);
    for (const code of NEVER_RETRIED) expect(defaultRetryable(code)).toBe(false);
  });
});

describe('the code table', () => {
  it('derives the never-retried list from retried: never and fatal, keeping the codes retried until now', () => {
    expect([...NEVER_RETRIED].sort()).toEqual(
      [
        'SafetyCheckFailed',
        'InvalidInput',
        'ApprovalRejected',
        'ApprovalTimedOut',
        'States.Runtime',
        'States.ExceedToleratedFailureThreshold',
        'ModelAccessDenied',
        'ConfigurationError',
      ].sort(),
    );
    // not retried by States.ALL, but a retrier naming them may: repair, a choice, a payload limit
    for (const code of ['ValidationFailed', 'States.NoChoiceMatched', 'States.DataLimitExceeded']) {
      expect(defaultRetryable(code)).toBe(false);
      expect(NEVER_RETRIED).not.toContain(code);
    }
  });

  it('gives every code a class; the api codes are the engine API refusals, none of them never-retried', () => {
    const classes = new Set(['model', 'validation', 'safety', 'assembly', 'infrastructure', 'api']);
    for (const [code, info] of Object.entries(ERROR_CODES)) expect(classes.has(info.class), code).toBe(true);
    expect(API_ERROR_CODES).toEqual([
      'RunNotFound',
      'PipelineNotFound',
      'PipelineVersionNotLoaded',
      'GateNotFound',
      'GateNotOpen',
      'ReviewTokenRejected',
      'ReviewTokenUsed',
      'RunNotRedrivable',
      'ResultTimedOut',
    ]);
    for (const code of API_ERROR_CODES) expect(NEVER_RETRIED).not.toContain(code);
    expect(defaultRetryable('ResultTimedOut')).toBe(true);
    expect(defaultRetryable('RunNotFound')).toBe(false);
    expect(errorClassOf('ModelAccessDenied')).toBe('model');
    expect(errorClassOf('BatonWorkerStopped')).toBe('infrastructure');
    expect(errorClassOf('ReportIncomplete')).toBeUndefined();
    expect(isErrorCode('States.NoChoiceMatched')).toBe(true);
    expect(isErrorCode('toString')).toBe(false);
  });
});

describe('fatal codes', () => {
  it('are the codes the table marks fatal: ModelAccessDenied and ConfigurationError, never retried', () => {
    expect(FATAL_CODES).toEqual(['ModelAccessDenied', 'ConfigurationError']);
    for (const code of FATAL_CODES) {
      expect(isFatalCode(code)).toBe(true);
      expect(NEVER_RETRIED).toContain(code);
      expect(new StageError(code, 'm').retryable).toBe(false);
    }
    expect(
      Object.entries(ERROR_CODES)
        .filter(([, v]) => 'fatal' in v && v.fatal)
        .map(([k]) => k),
    ).toEqual(FATAL_CODES);
    for (const code of ['ThrottlingException', 'SafetyCheckFailed', 'StageFailed', 'States.ALL', 'MyOwnCode']) expect(isFatalCode(code)).toBe(false);
  });
});

describe('isStageError (brand check)', () => {
  it('recognises StageErrors and nothing else', () => {
    expect(isStageError(new StageError('X', 'm'))).toBe(true);
    expect(isStageError(new Error('m'))).toBe(false);
    expect(isStageError({ code: 'X', message: 'm', retryable: true })).toBe(false);
    expect(isStageError(null)).toBe(false);
    expect(isStageError('X')).toBe(false);
  });

  it('works across realms, where instanceof does not', () => {
    const foreign = runInNewContext(`const e = new Error('m'); Object.defineProperty(e, Symbol.for('baton.StageError'), { value: true }); e`) as unknown;
    expect(foreign instanceof Error).toBe(false);
    expect(isStageError(foreign)).toBe(true);
  });

  it('a structuredClone drops the brand and the code: only the serialized form crosses intact', () => {
    const original = new StageError('ValidationFailed', 'no citation', { details: { issues: [{ path: ['text'], message: 'cite' }] } });
    const cloned = structuredClone(original) as unknown;
    expect(isStageError(cloned)).toBe(false);
    expect(toStageError(cloned).code).toBe('StageFailed');

    const crossed = deserializeError(structuredClone(serializeError(original)));
    expect(isStageError(crossed)).toBe(true);
    expect(crossed.code).toBe('ValidationFailed');
    expect(crossed.message).toBe('no citation');
    expect(crossed.retryable).toBe(false);
    expect(crossed.details).toEqual(original.details);
  });
});

describe('serializeError / deserializeError', () => {
  it('round-trips code, message, retryable and details through JSON', () => {
    const e = new StageError('ModelErrorException', 'model failed', { details: { status: 500, body: ['a', { b: 1 }] }, retryable: false });
    const wire = JSON.parse(JSON.stringify(serializeError(e))) as unknown;
    expect(isSerializedError(wire)).toBe(true);
    expect(wire).toEqual({ code: 'ModelErrorException', message: 'model failed', retryable: false, details: { status: 500, body: ['a', { b: 1 }] } });
    const back = deserializeError(wire as ReturnType<typeof serializeError>);
    expect(serializeError(back)).toEqual(wire);
  });

  it('omits absent details and makes unserialisable details safe', () => {
    expect(serializeError(new StageError('X', 'm'))).toEqual({ code: 'X', message: 'm', retryable: true });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const s = serializeError(new StageError('X', 'm', { details: cyclic }));
    expect(typeof s.details).toBe('string');
    expect(serializeError(new StageError('X', 'm', { details: { when: new Date(0) } })).details).toEqual({ when: '1970-01-01T00:00:00.000Z' });
  });

  it('serializes anything thrown', () => {
    expect(serializeError(new TypeError('bad'))).toEqual({ code: 'StageFailed', message: 'TypeError: bad', retryable: true });
    expect(serializeError('boom')).toEqual({ code: 'StageFailed', message: 'non-error thrown: boom', retryable: true });
  });

  it('isSerializedError checks the shape', () => {
    expect(isSerializedError({ code: 'X', message: 'm', retryable: false })).toBe(true);
    expect(isSerializedError({ code: 'X', message: 'm' })).toBe(false);
    expect(isSerializedError(null)).toBe(false);
    expect(isSerializedError('X')).toBe(false);
  });
});

describe('toStageError', () => {
  it('keeps a StageError as is', () => {
    const e = new StageError('SafetyCheckFailed', 'denied');
    expect(toStageError(e)).toBe(e);
  });

  it('maps a plain Error to StageFailed, keeping name, message and cause', () => {
    const plain = new RangeError('out of range');
    const e = toStageError(plain);
    expect(e.code).toBe('StageFailed');
    expect(e.retryable).toBe(true);
    expect(e.message).toBe('RangeError: out of range');
    expect(e.cause).toBe(plain);
  });

  it('maps AbortError and TimeoutError to States.Timeout', () => {
    const abort = new Error('This operation was aborted');
    abort.name = 'AbortError';
    expect(toStageError(abort).code).toBe('States.Timeout');
    const timeout = new Error('t');
    timeout.name = 'TimeoutError';
    expect(toStageError(timeout).code).toBe('States.Timeout');
  });

  it('describes non-errors', () => {
    expect(toStageError({ a: 1 }).message).toBe('non-error thrown: {"a":1}');
    expect(toStageError(undefined).message).toBe('non-error thrown: undefined');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(toStageError(cyclic).message).toBe('non-error thrown: [object Object]');
  });
});
