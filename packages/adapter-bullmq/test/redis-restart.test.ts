import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { createFsBlobStore } from '@baton/core';
import { createProbeDir, readProbe, startCounts } from '@baton/core/testkit';
import { createBullmqEngine } from '../src/index.js';
import { chaosPipelines } from './fixtures/chaos-pipelines.js';
import { startRedis } from './redis.js';

it('a Redis restart (AOF on) in the middle of runs loses no run and re-runs no completed step', { timeout: 120_000 }, async () => {
  // its own server: this test stops and starts it
  const redis = await startRedis();
  const engine = createBullmqEngine({
    connection: redis.url,
    prefix: `restart-${randomBytes(4).toString('hex')}`,
    pipelines: chaosPipelines,
    blobs: createFsBlobStore({ root: mkdtempSync(join(tmpdir(), 'baton-restart-')) }),
    worker: { lockDurationMs: 5000, stalledIntervalMs: 1000 },
  });
  try {
    const probes = [createProbeDir(), createProbeDir(), createProbeDir()];
    const runIds = await Promise.all(probes.map(async (probe) => (await engine.start('slow-chain', { probe, delayMs: 300 })).runId));
    const ends = (): number => probes.reduce((n, p) => n + readProbe(p).filter((e) => e.event === 'end').length, 0);
    while (ends() < 5) await new Promise((r) => setTimeout(r, 50));

    await redis.stop('SIGTERM');
    const completedBefore = probes.map(
      (p) =>
        new Set(
          readProbe(p)
            .filter((e) => e.event === 'end')
            .map((e) => e.key),
        ),
    );
    await new Promise((r) => setTimeout(r, 1000));
    await redis.restart();

    const outcomes = await Promise.all(runIds.map((id) => engine.result(id, { timeoutMs: 90_000 })));
    expect(outcomes.map((o) => o.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    for (const o of outcomes) expect((o as { output: { s6: unknown } }).output.s6).toEqual({ value: 6 });
    probes.forEach((p, i) => {
      const counts = startCounts(readProbe(p));
      expect(counts.size).toBe(6);
      for (const [key, n] of counts) expect(n, key).toBeLessThanOrEqual(completedBefore[i]!.has(key) ? 1 : 2);
    });
    const info = await engine.status(runIds[0]!);
    expect(info.attempts.filter((a) => a.status === 'succeeded')).toHaveLength(6);
  } finally {
    await engine.close();
    await redis.close();
  }
});
