import { describe, expect, it } from 'vitest';
import { modelLimiterFromEnv, modelPricesFromEnv } from './model-budgets-env.js';

describe('modelLimiterFromEnv', () => {
  it('no table: no limiter; a table with budgets: the DynamoDB limiter', () => {
    expect(modelLimiterFromEnv({})).toBeUndefined();
    const limiter = modelLimiterFromEnv({
      AWS_REGION: 'us-east-1',
      BATON_MODEL_BUDGETS_TABLE: 'budgets',
      BATON_MODEL_BUDGETS: '{"m":{"requestsPerMinute":60}}',
    });
    expect(typeof limiter?.acquire).toBe('function');
    expect(typeof limiter?.flush).toBe('function');
  });

  it('a table without budgets, budgets that are not JSON, not an object, or not positive: ConfigurationError naming the variable', () => {
    const table = { BATON_MODEL_BUDGETS_TABLE: 'budgets' };
    const refused = (env: Record<string, string>) => {
      try {
        modelLimiterFromEnv({ AWS_REGION: 'us-east-1', ...env });
      } catch (e) {
        return e as { code: string; message: string; details: { variable: string } };
      }
      throw new Error('accepted');
    };
    expect(refused(table)).toMatchObject({
      code: 'ConfigurationError',
      message: expect.stringContaining('BATON_MODEL_BUDGETS is not'),
      details: { variable: 'BATON_MODEL_BUDGETS' },
    });
    expect(refused({ ...table, BATON_MODEL_BUDGETS: '{m:' })).toMatchObject({ code: 'ConfigurationError', message: expect.stringContaining('not JSON') });
    expect(refused({ ...table, BATON_MODEL_BUDGETS: '[1]' })).toMatchObject({ code: 'ConfigurationError', message: expect.stringContaining('JSON object') });
    expect(refused({ ...table, BATON_MODEL_BUDGETS: '{"m":{"requestsPerMinute":0}}' })).toMatchObject({
      code: 'ConfigurationError',
      message: expect.stringContaining('requestsPerMinute must be a positive number'),
    });
  });
});

describe('modelPricesFromEnv', () => {
  it('no variable: no prices; a table pricing the model: the table', () => {
    expect(modelPricesFromEnv({}, 'm')).toBeUndefined();
    expect(modelPricesFromEnv({ BATON_MODEL_PRICES: '{"m":{"inputPer1M":0.8,"outputPer1M":4}}' }, 'm')).toEqual({ m: { inputPer1M: 0.8, outputPer1M: 4 } });
  });

  it('not JSON, not an object, a negative price, or no price for the model: ConfigurationError naming the variable', () => {
    const refused = (raw: string) => {
      try {
        modelPricesFromEnv({ BATON_MODEL_PRICES: raw }, 'm');
      } catch (e) {
        return e as { code: string; details: { variable: string } };
      }
      throw new Error('accepted');
    };
    for (const raw of ['{', '[1]', '{"m":{"inputPer1M":-1,"outputPer1M":4}}', '{"other":{"inputPer1M":1,"outputPer1M":4}}'])
      expect(refused(raw)).toMatchObject({ code: 'ConfigurationError', details: { variable: 'BATON_MODEL_PRICES' } });
  });
});
