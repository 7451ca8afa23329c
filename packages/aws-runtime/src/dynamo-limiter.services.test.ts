import { createJsonLogger, type ModelBudgets } from '@baton/core';
import { startMoto, type TestMoto } from '@baton/stages/testkit/moto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDynamoModelLimiter, type DynamoModelPermit } from './dynamo-limiter.js';
import { createBudgetTable, dynamoClient, oneAtATime, userWithPolicy } from './test-support/dynamo.js';

// The shared model limiter of deployed stage Lambdas, against moto's DynamoDB: separate limiter
// instances with separate clients (what separate Lambdas are) share nothing but the table.

const endpoint = inject('motoEndpoint');
const MODEL = 'anthropic.claude-3-5-haiku-20241022-v1:0';
/** The DynamoDB actions BatonStateMachine grants the stage functions with modelBudgets (construct.test.ts asserts the grant). */
const GRANTED = ['dynamodb:GetItem', 'dynamodb:UpdateItem'];

const warningsOf = (): { logger: ReturnType<typeof createJsonLogger>; warnings: Record<string, unknown>[] } => {
  const warnings: Record<string, unknown>[] = [];
  const logger = createJsonLogger({ write: (l) => void warnings.push(JSON.parse(l) as Record<string, unknown>) });
  return { logger, warnings };
};

describe('createDynamoModelLimiter on moto', () => {
  it('three limiters on one table never exceed the requests, tokens or in-flight budget in any window', async () => {
    await using proxy = await oneAtATime(endpoint);
    const table = await createBudgetTable(dynamoClient(proxy.url).client);
    const budget = { requestsPerMinute: 8, tokensPerMinute: 1400, maxInFlight: 3, windowMs: 1500 };
    const budgets: ModelBudgets = { [MODEL]: budget };
    const limiters = [0, 1, 2].map(() =>
      createDynamoModelLimiter({ client: dynamoClient(proxy.url).client, tableName: table, budgets, adaptive: false, pollMs: 100 }),
    );
    const grants: { at: number; tokens: number; source: string }[] = [];
    let inFlight = 0;
    let highWater = 0;
    await Promise.all(
      Array.from({ length: 27 }, async (_, i) => {
        const limiter = limiters[i % 3]!;
        const permit: DynamoModelPermit = await limiter.acquire(MODEL, { inputTokens: 100, outputTokens: 100 });
        highWater = Math.max(highWater, ++inFlight);
        await new Promise((r) => setTimeout(r, 20 + (i % 4) * 10));
        inFlight -= 1;
        // the answer used fewer tokens than reserved: the window counts the actual usage
        permit.settle({ inputTokens: 100, outputTokens: 50 });
        grants.push({ at: permit.grantedAt, tokens: 150, source: permit.source });
        await limiter.flush();
      }),
    );
    expect(grants).toHaveLength(27);
    expect(grants.every((g) => g.source === 'table')).toBe(true);
    expect(highWater).toBeLessThanOrEqual(3);
    const sorted = grants.sort((a, b) => a.at - b.at);
    let busiest = { requests: 0, tokens: 0 };
    for (const g of sorted) {
      const inWindow = sorted.filter((o) => o.at >= g.at && o.at < g.at + budget.windowMs);
      const tokens = inWindow.reduce((n, o) => n + o.tokens, 0);
      busiest = { requests: Math.max(busiest.requests, inWindow.length), tokens: Math.max(busiest.tokens, tokens) };
    }
    expect(busiest.requests).toBeLessThanOrEqual(budget.requestsPerMinute);
    expect(busiest.tokens).toBeLessThanOrEqual(budget.tokensPerMinute);
    // the budget was used, not just respected: 27 calls cannot fit in fewer than three windows
    expect(busiest.requests).toBeGreaterThanOrEqual(7);
    expect(sorted.at(-1)!.at - sorted[0]!.at).toBeGreaterThan(2 * budget.windowMs);
  });

  it('a throttle one limiter sees lowers the factor every other limiter reads; success restores it', async () => {
    const table = await createBudgetTable(dynamoClient(endpoint).client);
    const budgets: ModelBudgets = { [MODEL]: { requestsPerMinute: 100, maxInFlight: 10 } };
    const [a, b] = [0, 1].map(() => createDynamoModelLimiter({ client: dynamoClient(endpoint).client, tableName: table, budgets }));
    const first = await a!.acquire(MODEL, { inputTokens: 10, outputTokens: 10 });
    const second = await a!.acquire(MODEL, { inputTokens: 10, outputTokens: 10 });
    first.throttled();
    second.throttled(); // granted under the old limit: no second cut
    await a!.flush();
    expect(await b!.factor(MODEL)).toBeCloseTo(0.7);
    const p = await b!.acquire(MODEL, { inputTokens: 10, outputTokens: 10 });
    p.settle({ inputTokens: 10, outputTokens: 10 });
    await b!.flush();
    expect(await a!.factor(MODEL)).toBeGreaterThan(0.7);
  });

  it('an unreachable table: calls fall back to this process, limited by the same budget, with one warning', async () => {
    const { logger, warnings } = warningsOf();
    const limiter = createDynamoModelLimiter({
      client: dynamoClient('http://127.0.0.1:9').client,
      tableName: 'nowhere',
      budgets: { [MODEL]: { maxInFlight: 1 } },
      logger,
      requestTimeoutMs: 1000,
    });
    const first = await limiter.acquire(MODEL, { inputTokens: 1, outputTokens: 1 });
    expect(first.source).toBe('fallback');
    // the fallback still holds the budget: the second call waits for the first to end
    let second: DynamoModelPermit | undefined;
    const pending = limiter.acquire(MODEL, { inputTokens: 1, outputTokens: 1 }).then((p) => (second = p));
    await new Promise((r) => setTimeout(r, 100));
    expect(second).toBeUndefined();
    first.settle({ inputTokens: 1, outputTokens: 1 });
    await pending;
    expect(second?.source).toBe('fallback');
    second!.settle({ inputTokens: 1, outputTokens: 1 });
    await limiter.flush();
    const degraded = warnings.filter((w) => String(w.msg).startsWith('model limiter: DynamoDB table unusable'));
    expect(degraded).toHaveLength(1);
    expect(degraded[0]).toMatchObject({ level: 'warn', table: 'nowhere' });
  });
});

describe('least privilege, with IAM enforced by moto', () => {
  let moto: TestMoto;
  let table: string;
  const keys: Record<string, { accessKeyId: string; secretAccessKey: string }> = {};

  beforeAll(async () => {
    // unauthenticated set-up requests: the table and its TTL (2), three users of 3 requests each
    moto = await startMoto({ env: { INITIAL_NO_AUTH_ACTION_COUNT: '11' } });
    table = await createBudgetTable(dynamoClient(moto.endpoint).client);
    // moto authorises DynamoDB requests against "*", never the table's ARN: the statements name
    // "*" here, and construct.test.ts checks the construct scopes them to the table's ARN
    keys.granted = await userWithPolicy(moto.endpoint, [{ Effect: 'Allow', Action: GRANTED, Resource: '*' }]);
    for (const missing of GRANTED)
      keys[missing] = await userWithPolicy(moto.endpoint, [{ Effect: 'Allow', Action: GRANTED.filter((a) => a !== missing), Resource: '*' }]);
  }, 60_000);
  afterAll(async () => moto?.stop());

  it("the construct's actions are enough: the limiter uses exactly them and needs each one", async () => {
    const budgets: ModelBudgets = { [MODEL]: { requestsPerMinute: 10 } };
    const { logger, warnings } = warningsOf();
    const granted = dynamoClient(moto.endpoint, keys.granted);
    const limiter = createDynamoModelLimiter({ client: granted.client, tableName: table, budgets, logger });
    const permit = await limiter.acquire(MODEL, { inputTokens: 5, outputTokens: 5 });
    permit.settle({ inputTokens: 5, outputTokens: 5 });
    await limiter.flush();
    expect(permit.source).toBe('table');
    expect(await limiter.factor(MODEL)).toBe(1);
    expect(warnings).toEqual([]);
    expect([...granted.actions].sort()).toEqual(GRANTED);

    for (const missing of GRANTED) {
      const denied = warningsOf();
      const short = createDynamoModelLimiter({ client: dynamoClient(moto.endpoint, keys[missing]).client, tableName: table, budgets, logger: denied.logger });
      const p = await short.acquire(MODEL, { inputTokens: 5, outputTokens: 5 });
      p.settle({ inputTokens: 5, outputTokens: 5 });
      await short.flush();
      // the call is still made (degraded mode), and the warning names the refusal
      expect(p.source, missing).toBe('fallback');
      expect(denied.warnings, missing).toMatchObject([{ msg: 'model limiter: DynamoDB table unusable, limiting this process alone', httpStatus: 403 }]);
    }
  });
});
