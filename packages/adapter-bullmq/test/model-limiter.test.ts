import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it, vi } from 'vitest';
import { createFsBlobStore, isStageError } from '@baton/core';
import { ADAPTIVE_DEFAULTS, adaptAfterSuccess, receivedEntryAt, WINDOW_MARGIN_SHARE, type AdaptiveState, type ModelPermit } from '@baton/core/engine';
import { Redis } from 'ioredis';
import { createBullmqEngine, createRedisModelLimiter } from '../src/index.js';
import { quotaPipelines } from './fixtures/quota-pipelines.js';
import { freePort } from './redis.js';
import { startWorkers } from './workers.js';

const here = dirname(fileURLToPath(import.meta.url));
const est = { inputTokens: 100, outputTokens: 100 };

interface Call {
  pid: number;
  event: 'start' | 'end';
  t: number;
}
const calls = (log: string): Call[] =>
  existsSync(log)
    ? readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Call)
    : [];

describe('Redis model limiter', () => {
  it('two worker processes share one budget: calls in flight and calls per window stay within it', { timeout: 120_000 }, async () => {
    const redisUrl = inject('redisUrl');
    const prefix = `quota-${randomBytes(4).toString('hex')}`;
    const blobDir = mkdtempSync(join(tmpdir(), 'baton-quota-blobs-'));
    const log = join(mkdtempSync(join(tmpdir(), 'baton-quota-')), 'calls.jsonl');
    const fixture = join(here, 'fixtures', 'quota-pipelines.ts');
    const windowMs = 1000;
    const workers = await startWorkers(2, {
      redisUrl,
      prefix,
      blobDir,
      pipelinesModule: fixture,
      pipelinesExport: 'quotaPipelines',
      concurrency: 50,
      model: { module: fixture, export: 'createLoggingModel' },
      extraEnv: {
        BATON_PROVIDER_LOG: log,
        BATON_MODEL_DELAY_MS: '40',
        BATON_MODEL_BUDGETS: JSON.stringify({ 'shared-model': { maxInFlight: 3, requestsPerMinute: 12, windowMs } }),
        BATON_PRICES: JSON.stringify({ 'shared-model': { inputPer1M: 3, outputPer1M: 15 } }),
      },
    });
    const engine = createBullmqEngine({ connection: redisUrl, prefix, pipelines: quotaPipelines, blobs: createFsBlobStore({ root: blobDir }), worker: false });
    try {
      const { runId } = await engine.start(
        'quota-report',
        Array.from({ length: 30 }, (_, n) => ({ n })),
      );
      expect((await engine.result(runId, { timeoutMs: 90_000 })).status).toBe('succeeded');
      const log_ = calls(log).sort((a, b) => a.t - b.t || (a.event === 'end' ? -1 : 1));
      let inFlight = 0;
      let highWater = 0;
      for (const c of log_) {
        inFlight += c.event === 'start' ? 1 : -1;
        highWater = Math.max(highWater, inFlight);
      }
      const starts = log_.filter((c) => c.event === 'start');
      expect(starts).toHaveLength(30);
      expect(new Set(starts.map((c) => c.pid)).size).toBe(2);
      expect(highWater).toBeLessThanOrEqual(3);
      for (const s of starts) expect(starts.filter((c) => c.t >= s.t && c.t < s.t + windowMs).length).toBeLessThanOrEqual(12);
      const info = await engine.status(runId);
      expect(info.attempts.every((a) => a.attempt === 1)).toBe(true);
      expect(info.usage).toMatchObject({ modelCalls: 30, throttledCalls: 0, inputTokens: 1200, outputTokens: 300, estimatedOutputTokens: 1500 });
      expect(info.usage!.cost).toBeCloseTo((1200 * 3 + 300 * 15) / 1e6);
      expect(info.usage!.budgetWaitMs).toBeGreaterThan(0);
    } finally {
      await workers.stop();
      await engine.close();
    }
  });

  it('a throttle seen by one limiter lowers the limit every limiter of the prefix applies; success restores it', async () => {
    const redisUrl = inject('redisUrl');
    const prefix = `quota-${randomBytes(4).toString('hex')}`;
    const budgets = { m: { tokensPerMinute: 10_000, windowMs: 30 } };
    const a = createRedisModelLimiter({ connection: redisUrl, prefix, budgets });
    const b = createRedisModelLimiter({ connection: redisUrl, prefix, budgets });
    try {
      const [p1, p2] = await Promise.all([a.acquire('m', est), b.acquire('m', est)]);
      p1!.throttled();
      p2!.throttled(); // granted under the same limit: one cut
      await vi.waitFor(async () => expect(await b.factor('m')).toBeCloseTo(0.7));
      for (let i = 0; i < 40; i++) (await b.acquire('m', est)).settle({ inputTokens: 500, outputTokens: 500 });
      await vi.waitFor(async () => expect(await a.factor('m')).toBe(1));
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('adapts with core maths: one cut per round, the ceiling kept in Redis, fast regrowth to just under it', async () => {
    const redisUrl = inject('redisUrl');
    const prefix = `quota-${randomBytes(4).toString('hex')}`;
    const budget = { tokensPerMinute: 10_000, windowMs: 30 };
    const a = createRedisModelLimiter({ connection: redisUrl, prefix, budgets: { m: budget } });
    const b = createRedisModelLimiter({ connection: redisUrl, prefix, budgets: { m: budget } });
    try {
      (await a.acquire('m', est)).throttled();
      await vi.waitFor(async () => expect(await b.adaptiveState('m')).toEqual({ factor: 0.7, ceiling: 1, epoch: 1 }));
      (await b.acquire('m', est)).throttled();
      await vi.waitFor(async () => expect((await a.adaptiveState('m')).epoch).toBe(2));
      let expected: AdaptiveState = { factor: 0.7 * 0.7, ceiling: 0.7, epoch: 2 };
      expect((await a.adaptiveState('m')).factor).toBeCloseTo(expected.factor);
      const used = { inputTokens: 500, outputTokens: 500 };
      for (let i = 0; i < 6; i++) {
        (await (i % 2 ? a : b).acquire('m', est)).settle(used);
        expected = adaptAfterSuccess(expected, budget, used, ADAPTIVE_DEFAULTS);
        await vi.waitFor(async () => expect((await a.adaptiveState('m')).factor).toBeCloseTo(expected.factor));
      }
      // 0.49 + 0.1 a call, up to 0.95 x 0.7, then 0.003 a call
      expect(expected.factor).toBeCloseTo(0.665 + 3 * 0.003);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('serves waiting callers of two runs in turn, and a throttled call counts nothing in the window', async () => {
    const redisUrl = inject('redisUrl');
    const prefix = `quota-${randomBytes(4).toString('hex')}`;
    const limiter = createRedisModelLimiter({
      connection: redisUrl,
      prefix,
      budgets: { m: { maxInFlight: 1 }, r: { requestsPerMinute: 1, windowMs: 60_000 } },
    });
    try {
      const order: string[] = [];
      const held = await limiter.acquire('m', est, { runId: 'a' });
      const all = ['a', 'a', 'a', 'a', 'b', 'b'].map((run) =>
        limiter.acquire('m', est, { runId: run }).then((p) => {
          order.push(run);
          p.settle(est);
        }),
      );
      held.settle(est);
      await Promise.all(all);
      expect(order).toEqual(['a', 'b', 'a', 'b', 'a', 'a']);
      // one request a minute: the throttled call gives its request back, so the next is granted at once
      (await limiter.acquire('r', est)).throttled();
      (await limiter.acquire('r', est, { signal: AbortSignal.timeout(5000) })).settle(est);
    } finally {
      await limiter.close();
    }
  });

  it("places a settled call as core's receivedEntryAt does: with the provider's time, without the window's margin (never before its grant); without it, at its grant with the margin", async () => {
    const redisUrl = inject('redisUrl');
    const prefix = `quota-${randomBytes(4).toString('hex')}`;
    const windowMs = 60_000;
    const limiter = createRedisModelLimiter({ connection: redisUrl, prefix, budgets: { r: { requestsPerMinute: 10, windowMs } } });
    const redis = new Redis(redisUrl);
    const entries = `${prefix}:quota:{r}:entries`;
    const scores = async (): Promise<Map<string, number>> => {
      const flat = await redis.zrange(entries, 0, -1, 'WITHSCORES');
      const out = new Map<string, number>();
      for (let i = 0; i < flat.length; i += 2) out.set(flat[i]!, Number(flat[i + 1]));
      return out;
    };
    /** Acquires a permit and returns it with its window entry's id and grant time. */
    const grant = async (): Promise<{ permit: ModelPermit; id: string; at: number }> => {
      const before = await scores();
      const permit = await limiter.acquire('r', est);
      const [id, at] = [...(await scores())].find(([k]) => !before.has(k))!;
      return { permit, id, at };
    };
    try {
      const margin = windowMs * WINDOW_MARGIN_SHARE;
      const timed = await grant();
      // a provider time longer than the call would place its receipt before the grant: counted from the grant
      timed.permit.settle(est, { latencyMs: 1e9 });
      await vi.waitFor(async () => expect((await scores()).get(timed.id)).toBe(receivedEntryAt(timed.at, timed.at, 1e9, windowMs)));
      expect((await scores()).get(timed.id)).toBe(timed.at - margin);
      const untimed = await grant();
      untimed.permit.settle(est);
      // settled once it has left the in-flight set
      await vi.waitFor(async () => expect(await redis.zscore(`${prefix}:quota:{r}:inflight`, untimed.id)).toBeNull());
      expect((await scores()).get(untimed.id)).toBe(untimed.at);
    } finally {
      redis.disconnect();
      await limiter.close();
    }
  });

  it('with Redis unreachable it limits this process alone, with a warning, and does not hang', async () => {
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (msg: string) => void warnings.push(msg), child: () => logger };
    const limiter = createRedisModelLimiter({
      connection: `redis://127.0.0.1:${await freePort()}`,
      budgets: { m: { maxInFlight: 1 } },
      logger,
      connectTimeoutMs: 200,
    });
    try {
      const first = await limiter.acquire('m', est);
      const second = limiter.acquire('m', est);
      first.settle(est);
      (await second).settle(est);
      expect(warnings).toEqual(['model limiter: Redis unreachable, limiting this process alone']);
    } finally {
      await limiter.close();
    }
  });

  it('refuses a budget of 0 with a ConfigurationError', () => {
    let error: unknown;
    try {
      createRedisModelLimiter({ connection: inject('redisUrl'), budgets: { m: { requestsPerMinute: 0 } } });
    } catch (e) {
      error = e;
    }
    expect(isStageError(error) && error.code).toBe('ConfigurationError');
  });
});
