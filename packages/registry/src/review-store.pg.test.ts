import pg from 'pg';
import { afterAll, expect, inject, it } from 'vitest';
import { createPostgresRegistry } from './postgres.js';
import { createRegistryReviewStore } from './review-store.js';
import { schemaName } from './test-support/registry-suite.js';
import { taskTokenReview } from './test-support/review-store-suite.js';

const url = inject('postgresUrl');
const schemas: string[] = [];

afterAll(async () => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
});

it('two closes that reach the open row at the same moment: exactly one wins, the other is refused', async () => {
  const schema = schemaName();
  schemas.push(schema);
  // two processes (a pool each), as two review Lambdas answering the same gate
  const [a, b] = [
    await createPostgresRegistry({ connectionString: url, schema }),
    await createPostgresRegistry({ connectionString: url, schema, migrate: false }),
  ];
  await a.apply({ type: 'run-started', runId: 'run-1', pipeline: 'report', engine: 'stepfunctions', input: {}, at: '2026-11-23T10:00:00.000Z' });
  const review = taskTokenReview();
  await createRegistryReviewStore(a).put(review);

  // hold the row so that both closes are in flight, blocked on it, before either can decide
  const locker = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
  const monitor = new pg.Client({ connectionString: url });
  await Promise.all([locker.connect(), monitor.connect()]);
  await locker.query('BEGIN');
  await locker.query('SELECT 1 FROM pending_review WHERE execution_arn = $1 FOR UPDATE', [review.executionArn]);
  const at = '2026-11-23T10:04:00.000Z';
  const closes = [
    createRegistryReviewStore(a).close(review.executionArn, review.stepPath, { status: 'approved', reviewer: 'ana', at }),
    createRegistryReviewStore(b).close(review.executionArn, review.stepPath, { status: 'rejected', reviewer: 'bo', at }),
  ];
  const deadline = Date.now() + 10_000;
  for (;;) {
    const [row] = (
      await monitor.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%UPDATE pending_review SET decided_at%'`,
      )
    ).rows;
    if (row?.n === 2) break;
    if (Date.now() > deadline) throw new Error('the two closes never both waited on the review row');
    await new Promise((r) => setTimeout(r, 20));
  }
  await locker.query('COMMIT');
  const [anaWon, boWon] = await Promise.all(closes);
  expect([anaWon, boWon].filter(Boolean)).toHaveLength(1);
  const decided = await a.getReview('run-1', 'editor');
  expect(`${decided?.decision}:${decided?.decidedBy}`).toBe(anaWon ? 'approved:ana' : 'rejected:bo');
  expect((await a.getRun('run-1'))?.status).toBe('running');
  await Promise.all([locker.end(), monitor.end(), a.close(), b.close()]);
});

it('works on a registry made by createPostgresRegistry and refuses a registry it cannot reach into', async () => {
  const schema = schemaName();
  schemas.push(schema);
  const registry = await createPostgresRegistry({ connectionString: url, schema });
  const store = createRegistryReviewStore(registry);
  await store.put(taskTokenReview());
  expect((await store.open(taskTokenReview().executionArn, 'editor')).map((r) => r.taskToken)).toEqual(['TT-1']);
  await registry.close();
  expect(() => createRegistryReviewStore({ ...registry })).toThrow(/not made by createSqlRegistry/);
});
