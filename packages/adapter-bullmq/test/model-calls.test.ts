import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { expect, inject, it } from 'vitest';
import { createFsBlobStore } from '@baton/core';
import { createBullmqEngine } from '../src/index.js';
import { modelPipelines } from './fixtures/model-pipelines.js';
import { startWorkers } from './workers.js';

const here = dirname(fileURLToPath(import.meta.url));

const received = (log: string): { pid: number }[] =>
  existsSync(log)
    ? readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { pid: number })
    : [];

it('"model calls" of a run whose worker was SIGKILLed mid-call are the calls the provider received', { timeout: 120_000 }, async () => {
  const redisUrl = inject('redisUrl');
  const prefix = `calls-${randomBytes(4).toString('hex')}`;
  const blobDir = mkdtempSync(join(tmpdir(), 'baton-calls-blobs-'));
  const log = join(mkdtempSync(join(tmpdir(), 'baton-provider-')), 'calls.jsonl');
  const fixture = join(here, 'fixtures', 'model-pipelines.ts');
  const workers = await startWorkers(2, {
    redisUrl,
    prefix,
    blobDir,
    pipelinesModule: fixture,
    pipelinesExport: 'modelPipelines',
    concurrency: 2,
    model: { module: fixture, export: 'createProviderModel' },
    extraEnv: { BATON_RECOVERY_DEFAULTS: '1', BATON_PROVIDER_LOG: log, BATON_MODEL_DELAY_MS: '3000' },
  });
  const engine = createBullmqEngine({ connection: redisUrl, prefix, pipelines: modelPipelines, blobs: createFsBlobStore({ root: blobDir }), worker: false });
  try {
    const { runId } = await engine.start('ask-chain', {});
    const deadline = Date.now() + 30_000;
    while (received(log).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    // the first call is in flight at the provider: kill the worker that made it
    workers.kill(received(log)[0]!.pid);
    expect((await engine.result(runId, { timeoutMs: 90_000 })).status).toBe('succeeded');
    const info = await engine.status(runId);
    const counted = info.attempts.reduce((n, a) => n + (a.metrics?.modelCalls ?? 0), 0);
    // 3 steps, and the killed worker's call made again
    expect(received(log).length).toBe(4);
    expect(counted).toBe(received(log).length);
  } finally {
    await workers.stop();
    await engine.close();
  }
});
