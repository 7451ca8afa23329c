import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { createPgliteRegistry } from './pglite.js';
import { createRegistryReviewStore } from './review-store.js';
import { taskTokenReview } from './test-support/review-store-suite.js';

it('keeps runs in a data directory across restarts without re-applying migrations', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-pglite-'));
  try {
    const first = await createPgliteRegistry({ dataDir: dir });
    await first.apply({ type: 'run-started', runId: 'kept', pipeline: 'p', engine: 'local', input: { a: 1 }, at: '2026-11-23T09:00:00.000Z' });
    await first.close();
    const second = await createPgliteRegistry({ dataDir: dir });
    expect(await second.getRun('kept')).toMatchObject({ runId: 'kept', status: 'running', inputRef: { a: 1 } });
    await second.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('gives a task-token review store over a registry made by createPgliteRegistry', async () => {
  const registry = await createPgliteRegistry();
  const store = createRegistryReviewStore(registry);
  const review = taskTokenReview();
  await store.put(review);
  expect(await store.open(review.executionArn, review.gate)).toEqual([review]);
  expect(await store.close(review.executionArn, review.stepPath, { status: 'approved', reviewer: 'ana', at: '2026-11-23T10:04:00.000Z' })).toBe(true);
  expect(await store.close(review.executionArn, review.stepPath, { status: 'approved', reviewer: 'ana', at: '2026-11-23T10:04:00.000Z' })).toBe(false);
  await registry.close();
});
