import { describe, expect, it } from 'vitest';
import { isStageError } from '../errors.js';
import type { ModelPermit } from './limiter.js';
import { createMemoryModelLimiter } from './memory-limiter.js';

const est = { inputTokens: 100, outputTokens: 100 };

describe('memory model limiter', () => {
  it('never lets more calls than maxInFlight run at once, and serves every caller', async () => {
    const limiter = createMemoryModelLimiter({ budgets: { m: { maxInFlight: 3 } } });
    let inFlight = 0;
    let highWater = 0;
    const call = async (): Promise<void> => {
      const permit = await limiter.acquire('m', est);
      inFlight += 1;
      highWater = Math.max(highWater, inFlight);
      await new Promise((r) => setTimeout(r, 2));
      inFlight -= 1;
      permit.settle(est);
    };
    await Promise.all(Array.from({ length: 20 }, call));
    expect(highWater).toBe(3);
    expect(limiter.snapshot('m')).toMatchObject({ inFlight: 0, waiting: 0 });
  });

  it('grants at most requestsPerMinute calls in any window, and the tokens of a window stay under tokensPerMinute', async () => {
    const windowMs = 150;
    const limiter = createMemoryModelLimiter({ budgets: { m: { requestsPerMinute: 4, tokensPerMinute: 1000, windowMs } } });
    const grants: number[] = [];
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        const permit = await limiter.acquire('m', est);
        grants.push(Date.now());
        permit.settle(est);
      }),
    );
    expect(grants).toHaveLength(10);
    for (const t of grants) expect(grants.filter((g) => g >= t && g < t + windowMs).length).toBeLessThanOrEqual(4);
    const snap = limiter.snapshot('m')!;
    expect(snap.window.inputTokens + snap.window.outputTokens).toBeLessThanOrEqual(1000);
  });

  it('cuts the limit once per round on throttles and grows it back to the budget on success', async () => {
    // a short window, so the window's budget is free again after a few calls
    const limiter = createMemoryModelLimiter({ budgets: { m: { tokensPerMinute: 10_000, windowMs: 20 } } });
    const round1 = await Promise.all([limiter.acquire('m', est), limiter.acquire('m', est)]);
    round1[0]!.throttled();
    round1[1]!.throttled(); // granted under the same limit: no second cut
    expect(limiter.snapshot('m')!.factor).toBeCloseTo(0.7);
    const later = await limiter.acquire('m', est);
    later.throttled();
    expect(limiter.snapshot('m')!.factor).toBeCloseTo(0.49);
    // each success regains 0.1 x its share of the budget (1,000 of 10,000 tokens: 0.01)
    for (let i = 0; i < 60; i++) (await limiter.acquire('m', est)).settle({ inputTokens: 500, outputTokens: 500 });
    expect(limiter.snapshot('m')!.factor).toBe(1);
  });

  it('holds the declared budget when adaptive is off', async () => {
    const limiter = createMemoryModelLimiter({ budgets: { m: { maxInFlight: 2 } }, adaptive: false });
    (await limiter.acquire('m', est)).throttled();
    expect(limiter.snapshot('m')!.factor).toBe(1);
  });

  it('a throttle returns the call tokens to the window, a failure keeps its input', async () => {
    const limiter = createMemoryModelLimiter({ budgets: { m: { tokensPerMinute: 10_000 } }, adaptive: false });
    (await limiter.acquire('m', est)).throttled();
    expect(limiter.snapshot('m')!.window).toEqual({ requests: 1, inputTokens: 0, outputTokens: 0 });
    (await limiter.acquire('m', est)).failed();
    expect(limiter.snapshot('m')!.window).toEqual({ requests: 2, inputTokens: 100, outputTokens: 0 });
    const p = await limiter.acquire('m', est);
    p.settle({ inputTokens: 90, outputTokens: 40 });
    p.settle({ inputTokens: 9000, outputTokens: 0 }); // a second end is ignored
    expect(limiter.snapshot('m')!.window).toEqual({ requests: 3, inputTokens: 190, outputTokens: 40 });
  });

  it('a request larger than the whole window budget runs alone rather than never', async () => {
    const limiter = createMemoryModelLimiter({ budgets: { m: { tokensPerMinute: 50 } } });
    const permit = await limiter.acquire('m', { inputTokens: 400, outputTokens: 400 });
    permit.settle({ inputTokens: 400, outputTokens: 10 });
    expect(limiter.snapshot('m')!.window.inputTokens).toBe(400);
  });

  it('a model without a budget is not limited; an aborted wait leaves the queue', async () => {
    const limiter = createMemoryModelLimiter({ budgets: { m: { maxInFlight: 1 } } });
    const free: ModelPermit[] = await Promise.all(Array.from({ length: 5 }, () => limiter.acquire('other', est)));
    expect(free).toHaveLength(5);
    expect(limiter.snapshot('other')).toBeUndefined();
    const held = await limiter.acquire('m', est);
    const ac = new AbortController();
    const waiting = limiter.acquire('m', est, { signal: ac.signal });
    expect(limiter.snapshot('m')!.waiting).toBe(1);
    ac.abort(new Error('shutdown'));
    await expect(waiting).rejects.toThrow('shutdown');
    expect(limiter.snapshot('m')!.waiting).toBe(0);
    held.settle(est);
    expect(limiter.snapshot('m')!.inFlight).toBe(0);
  });

  it('refuses a budget of 0 or below with a ConfigurationError', () => {
    for (const budget of [{ requestsPerMinute: 0 }, { tokensPerMinute: -5 }, { maxInFlight: Number.NaN }]) {
      let error: unknown;
      try {
        createMemoryModelLimiter({ budgets: { m: budget } });
      } catch (e) {
        error = e;
      }
      expect(isStageError(error) && error.code).toBe('ConfigurationError');
    }
  });
});
