import { createServer } from 'node:net';
import pg from 'pg';
import { afterAll, describe, expect, inject, it, vi } from 'vitest';
import { isStageError, type Logger, type ModelBudgets } from '@baton/core';
import { receivedEntryAt, WINDOW_MARGIN_SHARE } from '@baton/core/engine';
import { createPostgresModelLimiter, type PostgresModelLimiterOptions } from './model-limiter.js';
import { schemaName } from './test-support/registry-suite.js';

const url = inject('postgresUrl');
const schemas: string[] = [];
const est = { inputTokens: 100, outputTokens: 100 };

afterAll(async () => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
});

/** Limiters on a fresh schema, each with its own pool (as in separate worker processes); `close()` checks none fell back. */
function limiters(n: number, budgets: ModelBudgets, extra: Partial<PostgresModelLimiterOptions> = {}) {
  const schema = schemaName();
  schemas.push(schema);
  const warnings: string[] = [];
  const logger: Logger = { debug() {}, info() {}, error() {}, warn: (msg: string) => void warnings.push(msg), child: () => logger };
  const all = Array.from({ length: n }, () => createPostgresModelLimiter({ connectionString: url, schema, budgets, maxConnections: 3, logger, ...extra }));
  const sql = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
  return {
    all,
    sql,
    async close() {
      await Promise.all(all.map((l) => l.close()));
      await sql.end();
      // never in degraded mode: the budget was the database's, not each process's own
      expect(warnings).toEqual([]);
    },
  };
}

describe('PostgreSQL model limiter', () => {
  it('four limiters drawing on one budget at once never exceed it in any window, nor the calls in flight', { timeout: 60_000 }, async () => {
    const windowMs = 1000;
    const budget = { requestsPerMinute: 8, tokensPerMinute: 1500, maxInFlight: 3, windowMs };
    const set = limiters(4, { m: budget });
    await set.sql.connect();
    let inFlight = 0;
    let highWater = 0;
    let granted = 0;
    const violations: string[] = [];
    // the database's own record of the grants, sampled while the limiters work: every permit of the
    // last window is still there (rows are deleted only once out of the window and ended)
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const [row] = (
          await set.sql
            .query<{ requests: string; tokens: string | null }>(
              `SELECT count(*) AS requests, sum(input_tokens + output_tokens) AS tokens FROM baton_model_permit
             WHERE model = 'm' AND granted_ms > (extract(epoch FROM clock_timestamp()) * 1000)::bigint - $1`,
              [windowMs],
            )
            .catch(() => ({ rows: [{ requests: '0', tokens: '0' }] }))
        ).rows;
        if (Number(row!.requests) > budget.requestsPerMinute) violations.push(`${row!.requests} requests in a window`);
        if (Number(row!.tokens ?? 0) > budget.tokensPerMinute) violations.push(`${row!.tokens} tokens in a window`);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    // 28 calls reserving 200 tokens and settling at 150: the token limit binds while calls are in flight, the request limit after
    await Promise.all(
      set.all.flatMap((limiter) =>
        Array.from({ length: 7 }, async () => {
          const permit = await limiter.acquire('m', est);
          granted += 1;
          highWater = Math.max(highWater, ++inFlight);
          await new Promise((r) => setTimeout(r, 30));
          inFlight -= 1;
          permit.settle({ inputTokens: 100, outputTokens: 50 });
        }),
      ),
    );
    watching = false;
    await watcher;
    expect(granted).toBe(28);
    expect(highWater).toBeLessThanOrEqual(3);
    expect(violations).toEqual([]);
    await set.close();
  });

  it('settle, throttled and failed leave the actual tokens, none, and the input only; expired permits are deleted', async () => {
    const set = limiters(1, { m: { tokensPerMinute: 100_000, windowMs: 300 } }, { adaptive: false });
    await set.sql.connect();
    const [limiter] = set.all;
    const [a, b, c] = [await limiter!.acquire('m', est), await limiter!.acquire('m', est), await limiter!.acquire('m', est)];
    a.settle({ inputTokens: 90, outputTokens: 20 });
    b.throttled();
    c.failed();
    await limiter!.close(); // writes the ended permits
    const rows = (
      await set.sql.query<{ input_tokens: string; output_tokens: string; lease_until_ms: string | null }>(
        'SELECT input_tokens, output_tokens, lease_until_ms FROM baton_model_permit ORDER BY id',
      )
    ).rows;
    expect(rows.map((r) => [Number(r.input_tokens), Number(r.output_tokens), r.lease_until_ms])).toEqual([
      [90, 20, null],
      [0, 0, null],
      [100, 0, null],
    ]);
    const later = createPostgresModelLimiter({ connectionString: url, schema: schemas.at(-1)!, budgets: { m: { tokensPerMinute: 100_000, windowMs: 300 } } });
    await new Promise((r) => setTimeout(r, 400));
    (await later.acquire('m', est)).settle(est);
    await later.close();
    expect((await set.sql.query('SELECT 1 FROM baton_model_permit')).rowCount).toBe(1);
    await set.close();
  });

  it("places a settled call as core's receivedEntryAt does: with the provider's time, without the window's margin (never before its grant); without it, at its grant with the margin", async () => {
    const windowMs = 60_000;
    const set = limiters(1, { m: { requestsPerMinute: 10, windowMs } }, { adaptive: false });
    await set.sql.connect();
    const [limiter] = set.all;
    const [timed, untimed] = [await limiter!.acquire('m', est), await limiter!.acquire('m', est)];
    const granted = async (): Promise<number[]> =>
      (await set.sql.query<{ granted_ms: string }>('SELECT granted_ms FROM baton_model_permit ORDER BY id')).rows.map((r) => Number(r.granted_ms));
    const [timedAt, untimedAt] = await granted();
    // a provider time longer than the call would place its receipt before the grant: counted from the grant
    timed.settle(est, { latencyMs: 1e9 });
    untimed.settle(est);
    await limiter!.close(); // writes the ended permits
    expect(await granted()).toEqual([receivedEntryAt(timedAt!, timedAt!, 1e9, windowMs), untimedAt]);
    expect(timedAt! - (await granted())[0]!).toBe(windowMs * WINDOW_MARGIN_SHARE);
    await set.close();
  });

  it('a throttle seen by one limiter lowers the limit every limiter applies, once per round; success restores it', async () => {
    const set = limiters(2, { m: { tokensPerMinute: 10_000, windowMs: 30 } });
    const [a, b] = set.all as [ReturnType<typeof createPostgresModelLimiter>, ReturnType<typeof createPostgresModelLimiter>];
    const [p1, p2] = await Promise.all([a.acquire('m', est), b.acquire('m', est)]);
    p1.throttled();
    p2.throttled(); // granted under the same limit: one cut
    await vi.waitFor(async () => expect(await b.factor('m')).toBeCloseTo(0.7), { timeout: 10_000 });
    await new Promise((r) => setTimeout(r, 100));
    expect(await a.factor('m')).toBeCloseTo(0.7);
    for (let i = 0; i < 40; i++) (await b.acquire('m', est)).settle({ inputTokens: 500, outputTokens: 500 });
    await b.close(); // writes its ended permits
    expect(await a.factor('m')).toBe(1);
    await set.close();
  });

  it("adapts with core's maths: the factor a second cut came from is the ceiling, and success regrows fast only to just under it", async () => {
    const set = limiters(1, { m: { tokensPerMinute: 10_000, windowMs: 30 } });
    await set.sql.connect();
    const [limiter] = set.all;
    (await limiter!.acquire('m', est)).throttled();
    await vi.waitFor(async () => expect(await limiter!.factor('m')).toBeCloseTo(0.7), { timeout: 10_000 });
    (await limiter!.acquire('m', est)).throttled(); // granted after the first cut: a second one
    await vi.waitFor(async () => expect(await limiter!.factor('m')).toBeCloseTo(0.49), { timeout: 10_000 });
    // each success (1,000 of 10,000 tokens: a share of 0.1) regains 0.1 up to 0.95 x the ceiling 0.7 = 0.665
    for (let i = 0; i < 2; i++) {
      (await limiter!.acquire('m', est)).settle({ inputTokens: 500, outputTokens: 500 });
      await vi.waitFor(async () => expect(await limiter!.factor('m')).toBeCloseTo([0.59, 0.665][i]!), { timeout: 10_000 });
    }
    const [row] = (await set.sql.query<{ ceiling: number }>('SELECT ceiling FROM baton_model_quota WHERE model = $1', ['m'])).rows;
    expect(row!.ceiling).toBeCloseTo(0.7);
    await set.close();
  });

  it('a permit never ended (its worker died) leaves the in-flight count when its lease lapses', async () => {
    const set = limiters(2, { m: { maxInFlight: 1 } }, { leaseMs: 300 });
    const [a, b] = set.all;
    await a!.acquire('m', est); // never ended
    const second = await b!.acquire('m', est);
    second.settle(est);
    await set.close();
  });

  it('serves waiting runs round-robin (one run cannot starve another), and close() refuses whoever still waits', async () => {
    const set = limiters(1, { m: { maxInFlight: 1 } });
    const [limiter] = set.all;
    const held = await limiter!.acquire('m', est, { runId: 'a' });
    const order: string[] = [];
    const wait = (runId: string) => limiter!.acquire('m', est, { runId }).then((p) => (order.push(runId), p.settle(est)));
    const queued = [wait('a'), wait('a'), wait('a'), wait('b')];
    held.settle(est);
    await Promise.all(queued);
    // run b's one call is served second, not after run a's three
    expect(order).toEqual(['a', 'b', 'a', 'a']);
    const last = await limiter!.acquire('m', est);
    const refused = limiter!.acquire('m', est).then(
      () => 'granted',
      (e: unknown) => (e as Error).message,
    );
    await new Promise((r) => setTimeout(r, 50));
    await Promise.all([set.close(), refused.then(() => last.settle(est))]);
    expect(await refused).toBe('model limiter closed');
  });

  it('with PostgreSQL unreachable it limits this process alone, with one warning, and does not hang', async () => {
    const warnings: string[] = [];
    const logger: Logger = { debug() {}, info() {}, error() {}, warn: (msg: string) => void warnings.push(msg), child: () => logger };
    const limiter = createPostgresModelLimiter({
      connectionString: `postgres://baton@127.0.0.1:${await freePort()}/postgres`,
      budgets: { m: { maxInFlight: 1 } },
      logger,
      connectTimeoutMs: 200,
    });
    try {
      const first = await limiter.acquire('m', est);
      let secondGranted = false;
      const second = limiter.acquire('m', est).then((p) => ((secondGranted = true), p));
      await new Promise((r) => setTimeout(r, 50));
      expect(secondGranted).toBe(false); // the fallback holds the same budget: one in flight
      first.settle(est);
      (await second).settle(est);
      (await limiter.acquire('m', est)).failed();
      expect(warnings).toEqual(['model limiter: PostgreSQL unreachable, limiting this process alone']);
    } finally {
      await limiter.close();
    }
  });

  it('refuses a budget of 0, and a limiter without a database, with a ConfigurationError', () => {
    const codeOf = (make: () => unknown): unknown => {
      try {
        make();
      } catch (e) {
        return isStageError(e) && e.code;
      }
      return undefined;
    };
    expect(codeOf(() => createPostgresModelLimiter({ connectionString: url, budgets: { m: { requestsPerMinute: 0 } } }))).toBe('ConfigurationError');
    const saved = process.env.DATABASE_URL;
    delete process.env.DATABASE_URL;
    try {
      expect(codeOf(() => createPostgresModelLimiter({ budgets: { m: { requestsPerMinute: 1 } } }))).toBe('ConfigurationError');
    } finally {
      if (saved !== undefined) process.env.DATABASE_URL = saved;
    }
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
