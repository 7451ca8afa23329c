import { describe, expect, it } from 'vitest';
import { isStageError } from '../errors.js';
import { createTestClock } from '../ports/clock.js';
import { receivedEntryAt, WINDOW_MARGIN_SHARE, type ModelPermit } from './limiter.js';
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

  it('grants at most requestsPerMinute calls in any window, and the tokens of a window stay under tokensPerMinute (fake clock)', async () => {
    const windowMs = 150;
    const clock = createTestClock(0);
    const limiter = createMemoryModelLimiter({ budgets: { m: { requestsPerMinute: 4, tokensPerMinute: 1000, windowMs } }, clock });
    const grants: number[] = [];
    const all = Promise.all(
      Array.from({ length: 10 }, async () => {
        const permit = await limiter.acquire('m', est);
        grants.push(clock.now());
        permit.settle(est);
      }),
    );
    await new Promise((r) => setImmediate(r)); // the first grants are recorded at 0
    for (let t = 0; grants.length < 10 && t < 1000; t++) await clock.advance(1);
    await all;
    expect(grants).toHaveLength(10);
    for (const t of grants) expect(grants.filter((g) => g >= t && g < t + windowMs).length).toBeLessThanOrEqual(4);
    // 4 at 0, 4 when the window (plus its 2% margin) has passed, the last 2 one window later
    expect(grants).toEqual([0, 0, 0, 0, 153, 153, 153, 153, 306, 306]);
    const snap = limiter.snapshot('m')!;
    expect(snap.window.inputTokens + snap.window.outputTokens).toBeLessThanOrEqual(1000);
  });

  it('cuts the limit once per round on throttles, regrows fast to just under the ceiling, then probes slowly past it (fake clock)', async () => {
    const clock = createTestClock(0);
    const limiter = createMemoryModelLimiter({ budgets: { m: { tokensPerMinute: 10_000, windowMs: 1000 } }, clock });
    const round1 = await Promise.all([limiter.acquire('m', est), limiter.acquire('m', est)]);
    round1[0]!.throttled();
    round1[1]!.throttled(); // granted under the same limit: no second cut
    expect(limiter.snapshot('m')).toMatchObject({ factor: 0.7, ceiling: 1 });
    const later = await limiter.acquire('m', est);
    later.throttled();
    expect(limiter.snapshot('m')!.factor).toBeCloseTo(0.49);
    expect(limiter.snapshot('m')!.ceiling).toBeCloseTo(0.7);
    // each success (1,000 of 10,000 tokens: a share of 0.1) regains 1 x its share up to 0.95 x 0.7
    const succeed = async (): Promise<void> => {
      (await limiter.acquire('m', est)).settle({ inputTokens: 500, outputTokens: 500 });
      await clock.advance(1100); // the call leaves the window: only the factor limits the next one
    };
    await succeed();
    expect(limiter.snapshot('m')!.factor).toBeCloseTo(0.59);
    await succeed();
    await succeed();
    expect(limiter.snapshot('m')!.factor).toBeCloseTo(0.665);
    // then 0.03 x its share: 0.003 a call, and past the ceiling the ceiling follows
    for (let i = 0; i < 20; i++) await succeed();
    expect(limiter.snapshot('m')!.factor).toBeCloseTo(0.725);
    expect(limiter.snapshot('m')!.ceiling).toBeCloseTo(0.725);
  });

  it('serves two runs that ask in the same turn in turn, the budget free at once included (fake clock)', async () => {
    const clock = createTestClock(0);
    const limiter = createMemoryModelLimiter({ budgets: { m: { requestsPerMinute: 4, windowMs: 100 } }, clock });
    const served: string[] = [];
    const ask = (runId: string, n: number): Promise<void>[] =>
      Array.from({ length: n }, async () => {
        const permit = await limiter.acquire('m', est, { runId });
        served.push(runId);
        permit.settle(est);
      });
    // run a's 12 callers all ask before run b's 6: the 4 free requests go 2 and 2 all the same
    const all = Promise.all([...ask('a', 12), ...ask('b', 6)]);
    await new Promise((r) => setImmediate(r));
    expect(served).toEqual(['a', 'b', 'a', 'b']);
    for (let t = 0; served.length < 18 && t < 1000; t++) await clock.advance(1);
    await all;
    // in turn while both wait (6 each), then a alone
    expect(served).toEqual([...Array.from({ length: 6 }, () => ['a', 'b']).flat(), ...Array.from({ length: 6 }, () => 'a')]);
    expect(limiter.snapshot('m')).toMatchObject({ inFlight: 0, waiting: 0 });
  });

  it('holds the declared budget when adaptive is off', async () => {
    const limiter = createMemoryModelLimiter({ budgets: { m: { maxInFlight: 2 } }, adaptive: false });
    (await limiter.acquire('m', est)).throttled();
    expect(limiter.snapshot('m')!.factor).toBe(1);
  });

  it('a throttled call counts nothing in the window (the provider refused it), a failure keeps its input', async () => {
    const limiter = createMemoryModelLimiter({ budgets: { m: { tokensPerMinute: 10_000 } }, adaptive: false });
    (await limiter.acquire('m', est)).throttled();
    expect(limiter.snapshot('m')!.window).toEqual({ requests: 0, inputTokens: 0, outputTokens: 0 });
    (await limiter.acquire('m', est)).failed();
    expect(limiter.snapshot('m')!.window).toEqual({ requests: 1, inputTokens: 100, outputTokens: 0 });
    const p = await limiter.acquire('m', est);
    p.settle({ inputTokens: 90, outputTokens: 40 });
    p.settle({ inputTokens: 9000, outputTokens: 0 }); // a second end is ignored
    expect(limiter.snapshot('m')!.window).toEqual({ requests: 2, inputTokens: 190, outputTokens: 40 });
  });

  it('counts a settled call from when the provider received it (its end less the provider latency), so a call that waited in the client leaves the window as late as at the provider (fake clock)', async () => {
    const clock = createTestClock(0);
    const limiter = createMemoryModelLimiter({ budgets: { m: { requestsPerMinute: 2, windowMs: 1000 } }, clock });
    const early = await limiter.acquire('m', est);
    const late = await limiter.acquire('m', est);
    await clock.advance(400); // the second call sat 300 ms in the client's connection pool, then the provider took 100 ms
    early.settle(est, { latencyMs: 400 }); // received at 0: stays where it was granted
    late.settle(est, { latencyMs: 100 }); // received at 300
    const granted: number[] = [];
    for (let i = 0; i < 2; i++) void limiter.acquire('m', est).then(() => granted.push(clock.now()));
    await clock.advance(2000);
    // one window after the provider received each (its arrival known, no margin): 1000 and 1300, not 1000 and 1000
    expect(granted).toEqual([1000, 1300]);
  });

  it('keeps the 2% margin only for calls whose arrival at the provider is unknown; a known one leaves one window after it, never counted from before its grant (fake clock)', async () => {
    const clock = createTestClock(0);
    const limiter = createMemoryModelLimiter({ budgets: { m: { requestsPerMinute: 3, windowMs: 1000 } }, clock });
    const timed = await limiter.acquire('m', est);
    const untimed = await limiter.acquire('m', est);
    const early = await limiter.acquire('m', est);
    await clock.advance(200);
    timed.settle(est, { latencyMs: 150 }); // received at 50
    untimed.settle(est); // no provider time: counted from its grant (0) with the margin
    early.settle(est, { latencyMs: 5000 }); // a latency longer than the call: counted from its grant (0), not before
    const granted: number[] = [];
    for (let i = 0; i < 3; i++) void limiter.acquire('m', est).then(() => granted.push(clock.now()));
    await clock.advance(2000);
    expect(granted).toEqual([1000, 1020, 1050]);
    expect(receivedEntryAt(0, 200, 150, 1000) + 1000 * (1 + WINDOW_MARGIN_SHARE)).toBe(1050);
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
