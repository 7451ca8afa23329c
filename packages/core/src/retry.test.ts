import { describe, expect, it } from 'vitest';
import { NEVER_RETRIED } from './errors.js';
import { RETRY_DEFAULTS, baseDelayMs, decideRetry, hashString, matchRetrier, maxDelayBoundMs, retryDelayMs, seededRandom, type RetryPolicy } from './retry.js';

const throttle: RetryPolicy = { errors: ['ThrottlingException'], intervalMs: 2000, backoffRate: 2, maxAttempts: 5, maxDelayMs: 10_000 };

describe('baseDelayMs', () => {
  it('follows interval x rate^(n-1)', () => {
    expect([1, 2, 3].map((n) => baseDelayMs({ errors: ['X'], intervalMs: 1000, backoffRate: 3 }, n))).toEqual([1000, 3000, 9000]);
  });

  it('caps every delay at maxDelayMs', () => {
    expect([1, 2, 3, 4, 5].map((n) => baseDelayMs(throttle, n))).toEqual([2000, 4000, 8000, 10_000, 10_000]);
  });

  it('applies the ASL defaults to unspecified fields', () => {
    const p: RetryPolicy = { errors: ['X'] };
    expect(baseDelayMs(p, 1)).toBe(RETRY_DEFAULTS.intervalMs);
    expect(baseDelayMs(p, 3)).toBe(RETRY_DEFAULTS.intervalMs * RETRY_DEFAULTS.backoffRate ** 2);
  });

  it('maxDelayBoundMs is the un-jittered delay', () => {
    expect(maxDelayBoundMs(throttle, 4)).toBe(10_000);
  });
});

describe('retryDelayMs with a seeded source', () => {
  it('without jitter ignores the random source', () => {
    expect(retryDelayMs(throttle, 2, () => 0.99)).toBe(4000);
  });

  it('FULL jitter stays in [0, delay) over many draws and spreads over the range', () => {
    const p: RetryPolicy = { ...throttle, jitter: 'FULL' };
    const random = seededRandom(42);
    const draws = Array.from({ length: 5000 }, (_, i) => retryDelayMs(p, (i % 5) + 1, random) / baseDelayMs(p, (i % 5) + 1));
    for (const d of draws) {
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(1);
    }
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
    expect(draws.filter((d) => d < 0.1).length).toBeGreaterThan(300);
    expect(draws.filter((d) => d > 0.9).length).toBeGreaterThan(300);
  });

  it('the same seed replays the same delay sequence; another seed differs', () => {
    const p: RetryPolicy = { ...throttle, jitter: 'FULL' };
    const seq = (seed: string): number[] => {
      const r = seededRandom(seed);
      return [1, 2, 3, 4, 5].map((n) => retryDelayMs(p, n, r));
    };
    expect(seq('run-1/generate')).toEqual(seq('run-1/generate'));
    expect(seq('run-1/generate')).not.toEqual(seq('run-2/generate'));
  });

  it('seededRandom accepts numbers and strings and yields [0, 1)', () => {
    const r = seededRandom(hashString('abc'));
    const s = seededRandom('abc');
    for (let i = 0; i < 100; i++) {
      const v = r();
      expect(v).toBe(s());
      expect(v >= 0 && v < 1).toBe(true);
    }
  });
});

describe('matchRetrier', () => {
  const policies: RetryPolicy[] = [{ errors: ['ThrottlingException', 'ModelErrorException'] }, { errors: ['Custom'] }, { errors: ['States.ALL'] }];

  it('returns the first retrier listing the code, in order', () => {
    expect(matchRetrier(policies, 'ModelErrorException')).toBe(0);
    expect(matchRetrier(policies, 'Custom')).toBe(1);
    expect(matchRetrier([{ errors: ['A'] }, { errors: ['A'] }], 'A')).toBe(0);
  });

  it('States.ALL matches only retryable codes', () => {
    expect(matchRetrier(policies, 'StageFailed')).toBe(2);
    expect(matchRetrier(policies, 'States.Timeout')).toBe(2);
    expect(matchRetrier(policies, 'ValidationFailed')).toBeNull();
    expect(matchRetrier(policies, 'StageFailed', false)).toBeNull();
    expect(matchRetrier(policies, 'SomethingOfMyOwn')).toBe(2);
  });

  it('codes in NEVER_RETRIED match nothing, even when listed by name', () => {
    for (const code of NEVER_RETRIED) {
      expect(matchRetrier([{ errors: [code] }, { errors: ['States.ALL'] }], code, true)).toBeNull();
    }
  });

  it('a listed code matches even when its thrower marked it non-retryable', () => {
    expect(matchRetrier([{ errors: ['ValidationFailed'] }], 'ValidationFailed')).toBe(0);
  });
});

describe('decideRetry', () => {
  it('produces the delay sequence and stops after maxAttempts retries', () => {
    const random = seededRandom(1);
    const counts = [0];
    const delays: number[] = [];
    for (;;) {
      const d = decideRetry([throttle], 'ThrottlingException', counts, random);
      if (!d.retry) {
        expect(d.retrierIndex).toBe(0);
        break;
      }
      expect(d.retryNumber).toBe(counts[0]! + 1);
      counts[d.retrierIndex] = d.retryNumber;
      delays.push(d.delayMs);
    }
    expect(delays).toEqual([2000, 4000, 8000, 10_000, 10_000]);
  });

  it('maxAttempts 0 never retries', () => {
    const d = decideRetry([{ errors: ['ThrottlingException'], maxAttempts: 0 }], 'ThrottlingException', [0], Math.random);
    expect(d).toEqual({ retry: false, retrierIndex: 0 });
  });

  it('each retrier counts on its own', () => {
    const policies: RetryPolicy[] = [
      { errors: ['ThrottlingException'], maxAttempts: 1, intervalMs: 10 },
      { errors: ['ModelErrorException'], maxAttempts: 2, intervalMs: 100 },
    ];
    const counts = [0, 0];
    const take = (code: string): ReturnType<typeof decideRetry> => {
      const d = decideRetry(policies, code, counts, Math.random);
      if (d.retry) counts[d.retrierIndex] = d.retryNumber;
      return d;
    };
    expect(take('ThrottlingException')).toMatchObject({ retry: true, retrierIndex: 0, retryNumber: 1, delayMs: 10 });
    expect(take('ModelErrorException')).toMatchObject({ retry: true, retrierIndex: 1, retryNumber: 1, delayMs: 100 });
    expect(take('ModelErrorException')).toMatchObject({ retry: true, retrierIndex: 1, retryNumber: 2, delayMs: 200 });
    expect(take('ThrottlingException')).toEqual({ retry: false, retrierIndex: 0 });
    expect(counts).toEqual([1, 2]);
  });

  it('an exhausted matching retrier ends the retries: later retriers are not consulted', () => {
    const policies: RetryPolicy[] = [
      { errors: ['ThrottlingException'], maxAttempts: 1 },
      { errors: ['States.ALL'], maxAttempts: 10 },
    ];
    expect(decideRetry(policies, 'ThrottlingException', [1, 0], Math.random)).toEqual({ retry: false, retrierIndex: 0 });
  });

  it('an unmatched code is not retried', () => {
    expect(decideRetry([throttle], 'ValidationFailed', [0], Math.random)).toEqual({ retry: false, retrierIndex: null });
    expect(decideRetry([{ errors: ['States.ALL'] }], 'SafetyCheckFailed', [0], Math.random)).toEqual({ retry: false, retrierIndex: null });
  });
});
