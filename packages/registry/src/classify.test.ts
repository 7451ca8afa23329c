import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '@baton/core';
import { mapIndexOf, refOf } from './values.js';
import { classifyFailure } from './classify.js';
import { startOfIsoWeek } from './sql-registry.js';

const err = (code: string, details?: unknown) => ({ code, message: code, retryable: false, ...(details === undefined ? {} : { details }) });

describe('classifyFailure', () => {
  it.each([
    ['ThrottlingException', 'model'],
    ['ModelErrorException', 'model'],
    ['ModelAccessDenied', 'model'],
    ['ConfigurationError', 'infrastructure'],
    ['ValidationFailed', 'validation'],
    ['InvalidInput', 'validation'],
    ['ApprovalRejected', 'validation'],
    ['SafetyCheckFailed', 'safety'],
    ['ReportIncomplete', 'validation'],
    ['States.Timeout', 'infrastructure'],
    ['StageFailed', 'infrastructure'],
    ['SomethingCustom', 'infrastructure'],
  ])('%s is %s', (code, expected) => {
    expect(classifyFailure(err(code), { stage: 'generate' })).toBe(expected);
  });

  it('puts every failure of the assemble stage in assembly', () => {
    expect(classifyFailure(err('StageFailed'), { stage: 'assemble' })).toBe('assembly');
    expect(classifyFailure(err('ValidationFailed'), { stage: 'assemble-docx' })).toBe('assembly');
  });

  it('keeps deployment faults in their class in any stage, the assemble stage included', () => {
    expect(classifyFailure(err('ModelAccessDenied'), { stage: 'assemble', modelCalls: 0 })).toBe('model');
    expect(classifyFailure(err('ConfigurationError'), { stage: 'assemble' })).toBe('infrastructure');
    expect(classifyFailure(err('ConfigurationError'), { stage: 'generate', modelCalls: 1 })).toBe('infrastructure');
  });

  it('blames the model for unavailability only when the attempt called it', () => {
    expect(classifyFailure(err('ServiceUnavailableException'), { modelCalls: 1 })).toBe('model');
    expect(classifyFailure(err('ServiceUnavailableException'), { modelCalls: 0 })).toBe('infrastructure');
  });

  it('classifies a map over its threshold by its most common item failure', () => {
    const results = [
      { status: 'failed', error: err('SafetyCheckFailed') },
      { status: 'succeeded', output: 1 },
      { status: 'failed', error: err('SafetyCheckFailed') },
      { status: 'failed', error: err('ThrottlingException') },
    ];
    expect(classifyFailure(err('States.ExceedToleratedFailureThreshold', { results }), {})).toBe('safety');
    expect(classifyFailure(err('States.ExceedToleratedFailureThreshold'), {})).toBe('infrastructure');
  });
});

describe('row helpers', () => {
  it('finds the innermost map index of a step path', () => {
    expect(mapIndexOf('sections[3]/generate')).toBe(3);
    expect(mapIndexOf('a[1]/b[12]/c')).toBe(12);
    expect(mapIndexOf('plan')).toBeNull();
  });

  it('keeps small values and claim-check references, digests large ones', () => {
    const ref = { $blob: 'mem://x', bytes: 10_000_000, sha256: 'ab' };
    expect(refOf(ref)).toEqual(ref);
    expect(refOf({ a: 1 })).toEqual({ a: 1 });
    expect(refOf('x'.repeat(20_000))).toMatchObject({ $omitted: true, bytes: 20_002 });
  });

  it('starts the week on Monday 00:00 UTC', () => {
    expect(startOfIsoWeek(new Date('2026-11-26T18:00:00Z')).toISOString()).toBe('2026-11-23T00:00:00.000Z');
    expect(startOfIsoWeek(new Date('2026-11-29T23:59:00Z')).toISOString()).toBe('2026-11-23T00:00:00.000Z');
    expect(startOfIsoWeek(new Date('2026-11-23T00:00:00Z')).toISOString()).toBe('2026-11-23T00:00:00.000Z');
  });
});

describe('classes from the core code table', () => {
  it('classifies each code of ERROR_CODES as the table says, outside the assemble stage', () => {
    const special = ['ServiceUnavailableException', 'States.ExceedToleratedFailureThreshold'];
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      if (info.class === 'api' || special.includes(code)) continue;
      expect(classifyFailure({ code, message: 'm', retryable: false }, { stage: 'generate' }), code).toBe(info.class);
    }
    expect(classifyFailure({ code: 'States.NoChoiceMatched', message: 'm', retryable: false }, {})).toBe('infrastructure');
  });
});
