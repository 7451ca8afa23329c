// A `baton worker --engine bullmq` stand-in for tests: loads pipelines (and optionally a model)
// from modules and works. With BATON_TRACE_FILE it appends one JSON line per stage execution
// and per blob actually written, with its pid: the execution counters of the chaos suites.
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { createFsBlobStore, type AnyPipeline, type BlobStore, type ModelBudgets, type ModelClient, type PriceTable } from '@baton/core';
import { createBullmqWorker, createRedisModelLimiter } from '../src/index.js';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`worker-process: ${name} is not set`);
  return v;
};

const trace = process.env.BATON_TRACE_FILE;
const record = (line: Record<string, unknown>): void => {
  if (trace) appendFileSync(trace, JSON.stringify({ ...line, pid: process.pid, t: Date.now() }) + '\n');
};

const mod = (await import(env('BATON_PIPELINES_MODULE'))) as Record<string, unknown>;
const pipelines = mod[env('BATON_PIPELINES_EXPORT')] as AnyPipeline[];
let model: ModelClient | undefined;
if (process.env.BATON_MODEL_MODULE) {
  const m = (await import(process.env.BATON_MODEL_MODULE)) as Record<string, () => ModelClient>;
  model = m[env('BATON_MODEL_EXPORT')]!();
}
const fsBlobs = createFsBlobStore({ root: env('BATON_BLOB_DIR') });
const blobs: BlobStore = {
  ...fsBlobs,
  async put(key, data) {
    const res = await fsBlobs.put(key, data);
    if (res.written) record({ event: 'blob-write', key });
    return res;
  },
};
// BATON_MODEL_BUDGETS / BATON_PRICES: JSON budgets (a Redis limiter shared by the workers) and prices
const limiter = process.env.BATON_MODEL_BUDGETS
  ? createRedisModelLimiter({
      connection: env('BATON_REDIS_URL'),
      prefix: env('BATON_PREFIX'),
      budgets: JSON.parse(process.env.BATON_MODEL_BUDGETS) as ModelBudgets,
    })
  : undefined;
const prices = process.env.BATON_PRICES ? (JSON.parse(process.env.BATON_PRICES) as PriceTable) : undefined;
const worker = createBullmqWorker({
  connection: env('BATON_REDIS_URL'),
  prefix: env('BATON_PREFIX'),
  pipelines,
  blobs,
  ...(model ? { model } : {}),
  ...(limiter ? { limiter } : {}),
  ...(prices ? { prices } : {}),
  concurrency: Number(process.env.BATON_CONCURRENCY ?? 20),
  // BATON_ENQUEUE_PATH=public: task jobs through Queue.addBulk instead of the fused script
  ...(process.env.BATON_ENQUEUE_PATH === 'public' ? { enqueuePath: 'public' as const } : {}),
  // BATON_RECOVERY_DEFAULTS: the worker's own lock and stalled-check defaults (the recovery suite measures them)
  ...(process.env.BATON_RECOVERY_DEFAULTS ? {} : { lockDurationMs: 5000, stalledIntervalMs: 1000 }),
  // BATON_NOTICE_GRACE_MS: the worker's noticeGraceMs
  ...(process.env.BATON_NOTICE_GRACE_MS ? { noticeGraceMs: Number(process.env.BATON_NOTICE_GRACE_MS) } : {}),
  // BATON_DIE_IN_NOTIFIER=<file>: the first worker to notify a reviewer creates the file and dies
  // (SIGKILL) before the delivery is recorded
  ...(process.env.BATON_DIE_IN_NOTIFIER
    ? {
        notifier: () => {
          const marker = process.env.BATON_DIE_IN_NOTIFIER!;
          if (existsSync(marker)) return;
          writeFileSync(marker, String(process.pid));
          process.kill(process.pid, 'SIGKILL');
        },
      }
    : {}),
  observer: (e) => {
    if (e.type === 'attempt-started') record({ event: 'execute', runId: e.runId, stepPath: e.stepPath, attempt: e.attempt });
  },
});
await worker.ready;
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void worker.close().then(async () => {
    await limiter?.close();
    process.exit(0);
  });
});
