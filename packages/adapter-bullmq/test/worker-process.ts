// A `baton worker --engine bullmq` stand-in for tests: loads pipelines from a module and works.
import { createFsBlobStore, type AnyPipeline } from '@baton/core';
import { createBullmqWorker } from '../src/index.js';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`worker-process: ${name} is not set`);
  return v;
};

const mod = (await import(env('BATON_PIPELINES_MODULE'))) as Record<string, unknown>;
const pipelines = mod[env('BATON_PIPELINES_EXPORT')] as AnyPipeline[];
const worker = createBullmqWorker({
  connection: env('BATON_REDIS_URL'),
  prefix: env('BATON_PREFIX'),
  pipelines,
  blobs: createFsBlobStore({ root: env('BATON_BLOB_DIR') }),
  concurrency: Number(process.env.BATON_CONCURRENCY ?? 20),
  lockDurationMs: 5000,
  stalledIntervalMs: 1000,
});
await worker.ready;
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void worker.close().then(() => process.exit(0));
});
