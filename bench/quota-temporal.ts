// The Temporal entry of bench/quota.ts: a tuned dev server (or TEMPORAL_ADDRESS) and a PostgreSQL
// (or DATABASE_URL), both started once; per line, a fresh task queue with three workers (the
// engine's in-process one and two more, as BullMQ's three), each with its own PostgreSQL limiter
// (own pool) on a fresh schema, so the budget is shared only through the database.
import { randomUUID } from 'node:crypto';
import type { Engine, ModelBudgets, ModelClient, AnyPipeline, PriceTable } from '@baton/core';
import type { ModelLimiter } from '@baton/core/engine';
import { createMemoryBlobStore } from '@baton/core';
import { bundleBatonWorkflow, createTemporalEngine, createTemporalWorker, type TemporalWorker } from '../packages/adapter-temporal/src/index.js';
import { startDevServer, type DevServer } from '../packages/adapter-temporal/src/test-support/dev-server.js';
import { createPostgresModelLimiter, type PostgresModelLimiter } from '../packages/registry/src/index.js';
import { startTestPostgres, type TestPostgres } from '../packages/registry/src/testkit/postgres.js';

/** What one bench line needs from an engine entry. */
export interface QuotaEngineRound {
  engine: Engine;
  close(): Promise<void>;
}

/** Servers of the Temporal entry and the factory of its lines; `close()` stops the servers it started. */
export interface TemporalQuotaBench {
  /** A dev server with the FAST_HOPS tuning (ENGINES.md), or TEMPORAL_ADDRESS. */
  readonly temporal: string;
  make(limited: boolean): Promise<QuotaEngineRound>;
  close(): Promise<void>;
}

/** Starts the servers of the Temporal entry. */
export async function startTemporalQuotaBench(options: {
  pipelines: AnyPipeline[];
  model: ModelClient;
  prices: PriceTable;
  budgets: ModelBudgets;
  /** Wraps each limiter (the bench's fairness line watches the waits and grants through it). */
  observe?: <T extends ModelLimiter>(limiter: T) => T;
}): Promise<TemporalQuotaBench> {
  const [dev, postgres, workflowBundle]: [DevServer | undefined, TestPostgres, Awaited<ReturnType<typeof bundleBatonWorkflow>>] = await Promise.all([
    process.env.TEMPORAL_ADDRESS ? undefined : startDevServer(),
    startTestPostgres(),
    bundleBatonWorkflow(),
  ]);
  const address = process.env.TEMPORAL_ADDRESS ?? dev!.address;
  const { pipelines, model, prices, budgets } = options;
  return {
    temporal: process.env.TEMPORAL_ADDRESS ? `TEMPORAL_ADDRESS ${address}` : `dev server ${dev!.tuning.join(' ')}`,
    async make(limited) {
      const taskQueue = `quota-bench-${randomUUID()}`;
      const schema = `quota_bench_${randomUUID().replaceAll('-', '')}`;
      const blobs = createMemoryBlobStore();
      const limiters: PostgresModelLimiter[] = [];
      const limiterOf = (): { limiter?: ModelLimiter } => {
        if (!limited) return {};
        const made = createPostgresModelLimiter({ connectionString: postgres.url, schema, budgets });
        const l = options.observe ? options.observe(made) : made;
        limiters.push(l);
        return { limiter: l };
      };
      const common = { address, taskQueue, pipelines, blobs, model, prices, workflowBundle };
      const engine = createTemporalEngine({ ...common, ...limiterOf() });
      const workers: TemporalWorker[] = await Promise.all([1, 2].map(() => createTemporalWorker({ ...common, ...limiterOf() })));
      return {
        engine,
        async close() {
          await engine.close();
          await Promise.all(workers.map((w) => w.shutdown()));
          await Promise.all(limiters.map((l) => l.close()));
        },
      };
    },
    async close() {
      await dev?.stop();
      await postgres.stop();
    },
  };
}
