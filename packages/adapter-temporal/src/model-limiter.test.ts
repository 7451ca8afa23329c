import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { createFsBlobStore, createMemoryBlobStore, definePipeline, defineStage, type BlobStore, type ModelClient } from '@baton/core';
import { type ModelBudget } from '@baton/core/engine';
import { createPostgresClient, createPostgresModelLimiter } from '@baton/registry';
import { startTestPostgres, type TestPostgres } from '@baton/registry/testkit/postgres';
import type { WorkflowBundle } from '@temporalio/worker';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleBatonWorkflow, createTemporalEngine, createTemporalWorker } from './index.js';
import { quietTemporalRuntime } from './test-support/quiet.js';

// Model budgets shared by every Temporal worker through PostgreSQL (@baton/registry's limiter):
// two workers, each with its own limiter and pool (as two worker processes would have), run one
// map of 24 sections, one model call each, far more than the budget lets run at once.

quietTemporalRuntime();

const MODEL = 'shared-model';
const SECTIONS = 24;
const windowMs = 1000;
const budget: ModelBudget = { maxInFlight: 3, requestsPerMinute: 8, windowMs };

const section = defineStage({
  name: 'section',
  version: 1,
  input: z.object({ n: z.number() }),
  output: z.object({ text: z.string() }),
  retry: [],
  // shorter than most sections wait for budget: the wait must not count against it
  timeoutMs: 1500,
  async run(input, ctx) {
    return { text: (await ctx.model.complete({ messages: [{ role: 'user', content: `section ${input.n} `.repeat(20) }], maxTokens: 50 })).text };
  },
});
const report = definePipeline({ name: 'quota-report', version: 1, input: z.array(z.object({ n: z.number() })) })
  .map('sections', { items: '$', maxConcurrency: SECTIONS }, (b) => b.task('write', section))
  .build();

interface Call {
  worker: string;
  event: 'start' | 'end';
  t: number;
}

/** The provider as one worker sees it: records each call's start and end. */
function loggingModel(worker: string, calls: Call[]): ModelClient {
  return {
    modelId: MODEL,
    async complete() {
      calls.push({ worker, event: 'start', t: Date.now() });
      await new Promise((r) => setTimeout(r, 40));
      calls.push({ worker, event: 'end', t: Date.now() });
      return { text: 'ok', usage: { inputTokens: 40, outputTokens: 10 }, latencyMs: 40, modelId: MODEL };
    },
  };
}

describe('model budgets shared by Temporal workers (PostgreSQL limiter, dev server)', () => {
  const address = inject('temporalAddress');
  let postgres: TestPostgres;
  let bundle: WorkflowBundle;
  beforeAll(async () => {
    [postgres, bundle] = await Promise.all([startTestPostgres(), bundleBatonWorkflow()]);
  });
  afterAll(async () => {
    await postgres?.stop();
  });

  it('two workers on a 24-section map stay within the budget in every window, one attempt per section', { timeout: 120_000 }, async () => {
    const taskQueue = `quota-${randomUUID()}`;
    const schema = `quota_${randomUUID().replaceAll('-', '')}`;
    const blobs = createFsBlobStore({ root: mkdtempSync(join(tmpdir(), 'baton-quota-blobs-')) });
    const prices = { [MODEL]: { inputPer1M: 3, outputPer1M: 15 } };
    const calls: Call[] = [];
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (msg: string) => void warnings.push(msg), child: () => logger };
    const limiters = ['a', 'b'].map(() => createPostgresModelLimiter({ connectionString: postgres.url, schema, budgets: { [MODEL]: budget }, logger }));
    // each worker takes at most half the sections at once, so both hold waiting sections; budget
    // waits do not count towards stuckGraceMs (most sections wait longer than 1.5 s + 0.3 s)
    const workers = await Promise.all(
      ['a', 'b'].map((name, i) =>
        createTemporalWorker({
          address,
          taskQueue,
          pipelines: [report],
          blobs,
          model: loggingModel(name, calls),
          limiter: limiters[i]!,
          prices,
          workflowBundle: bundle,
          maxConcurrentActivities: SECTIONS / 2,
          stuckGraceMs: 300,
        }),
      ),
    );
    // heartbeats every ~330 ms while waiting, and a start-to-close of timeout + margin (2 s) plus
    // the budget-wait room: without that room, the sections waiting longest would time out and run again
    const engine = createTemporalEngine({
      address,
      taskQueue,
      pipelines: [report],
      blobs,
      worker: false,
      activity: { heartbeatTimeoutMs: 1000, startToCloseMarginMs: 500 },
    });
    const watcher = windowWatcher(postgres.url, schema);
    try {
      const { runId } = await engine.start(
        report,
        Array.from({ length: SECTIONS }, (_, n) => ({ n })),
      );
      expect((await engine.result(runId, { timeoutMs: 90_000 })).status).toBe('succeeded');
      const violations = await watcher.stop();

      const starts = calls.filter((c) => c.event === 'start');
      expect(starts).toHaveLength(SECTIONS); // no section ran twice (a timed-out activity would)
      expect(new Set(starts.map((c) => c.worker))).toEqual(new Set(['a', 'b']));
      expect(highWater(calls)).toBeLessThanOrEqual(budget.maxInFlight!);
      expect(violations).toEqual([]);
      expect(warnings).toEqual([]); // the shared budget, never each worker's own fallback

      const info = await engine.status(runId);
      expect(info.attempts).toHaveLength(SECTIONS);
      expect(info.attempts.every((a) => a.attempt === 1 && a.status === 'succeeded')).toBe(true);
      expect(info.usage).toMatchObject({
        attempts: SECTIONS,
        modelCalls: SECTIONS,
        throttledCalls: 0,
        inputTokens: 40 * SECTIONS,
        outputTokens: 10 * SECTIONS,
        estimatedOutputTokens: 50 * SECTIONS,
      });
      expect(info.usage!.cost).toBeCloseTo(((40 * 3 + 10 * 15) * SECTIONS) / 1e6);
      expect(info.usage!.budgetWaitMs).toBeGreaterThan(0);
      expect(Object.keys(info.usage!.bySection)).toHaveLength(SECTIONS);
    } finally {
      await watcher.stop();
      await engine.close();
      await Promise.all(workers.map((w) => w.shutdown()));
      await Promise.all(limiters.map((l) => l.close()));
    }
  });

  it('an attempt stuck past its stage timeout outside budget waits stops heartbeating and runs again as the same attempt', { timeout: 60_000 }, async () => {
    // the start-to-close timeout leaves a day for budget waits: heartbeats are what end a stuck attempt now
    const taskQueue = `stuck-${randomUUID()}`;
    const memory = createMemoryBlobStore();
    let puts = 0;
    let release: (() => void) | undefined;
    const blobs: BlobStore = {
      ...memory,
      // the first claim-check write does not answer until the test ends (a worker cannot shut down
      // while an activity ignores its cancellation)
      put: async (key, body) => {
        if (++puts === 1) await new Promise<void>((r) => (release = r));
        return memory.put(key, body);
      },
    };
    const echo = defineStage({
      name: 'echo',
      version: 1,
      input: z.object({ n: z.number() }),
      output: z.object({ n: z.number() }),
      retry: [],
      timeoutMs: 200,
      run: async (i) => i,
    });
    const pipeline = definePipeline({ name: 'stuck', version: 1, input: z.object({ n: z.number() }) })
      .task('echo', echo)
      .build();
    const worker = await createTemporalWorker({
      address,
      taskQueue,
      pipelines: [pipeline],
      blobs,
      claimCheckThreshold: 1,
      stuckGraceMs: 300,
      workflowBundle: bundle,
      shutdownGraceTime: '100ms',
    });
    const engine = createTemporalEngine({ address, taskQueue, pipelines: [pipeline], blobs, worker: false, activity: { heartbeatTimeoutMs: 1000 } });
    try {
      const { runId } = await engine.start(pipeline, { n: 7 });
      expect(await engine.result(runId, { timeoutMs: 30_000 })).toMatchObject({ status: 'succeeded', output: { n: 7 } });
      expect(puts).toBe(2);
      const info = await engine.status(runId);
      expect(info.attempts.map((a) => [a.stepPath, a.attempt, a.status])).toEqual([['echo', 1, 'succeeded']]);
    } finally {
      release?.();
      await engine.close();
      await worker.shutdown();
    }
  });
});

function highWater(calls: Call[]): number {
  let inFlight = 0;
  let high = 0;
  for (const c of [...calls].sort((a, b) => a.t - b.t || (a.event === 'end' ? -1 : 1))) {
    inFlight += c.event === 'start' ? 1 : -1;
    high = Math.max(high, inFlight);
  }
  return high;
}

/**
 * Samples the permits the database granted in the last window (they stay in the table until they
 * leave it) and records any sample over the budget's requests.
 */
function windowWatcher(url: string, schema: string): { stop(): Promise<string[]> } {
  const violations: string[] = [];
  let watching = true;
  const done = (async () => {
    const sql = await createPostgresClient({ connectionString: url, schema, maxConnections: 1 });
    try {
      while (watching) {
        const rows = await sql
          .query<{ requests: string }>(
            `SELECT count(*) AS requests FROM baton_model_permit WHERE model = $1 AND granted_ms > (extract(epoch FROM clock_timestamp()) * 1000)::bigint - $2`,
            [MODEL, windowMs],
          )
          .catch(() => []); // the limiter creates the table on its first call
        const requests = Number(rows[0]?.requests ?? 0);
        if (requests > budget.requestsPerMinute!) violations.push(`${requests} requests in one window`);
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      await sql.close();
    }
  })();
  return {
    async stop() {
      watching = false;
      await done;
      return violations;
    },
  };
}
