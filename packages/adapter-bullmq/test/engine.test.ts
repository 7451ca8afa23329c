import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createFsBlobStore, type RunEvent } from '@baton/core';
import { createProbeDir } from '@baton/core/testkit';
import { createBullmqEngine, type BullmqEngine } from '../src/index.js';
import { chaosPipelines } from './fixtures/chaos-pipelines.js';

describe('bullmq engine with an in-process worker', () => {
  let engine: BullmqEngine;
  const events: RunEvent[] = [];
  beforeAll(() => {
    engine = createBullmqEngine({
      connection: inject('redisUrl'),
      prefix: `engine-${randomBytes(4).toString('hex')}`,
      pipelines: chaosPipelines,
      blobs: createFsBlobStore({ root: mkdtempSync(join(tmpdir(), 'baton-engine-')) }),
      observer: (e) => {
        events.push(e);
      },
    });
  });
  afterAll(() => engine.close());

  it('reports current steps while running, then the output; the observer sees every transition', async () => {
    const { runId } = await engine.start('slow-chain', { probe: createProbeDir(), delayMs: 200 });
    let seen: string[] = [];
    for (let i = 0; i < 100 && seen.length === 0; i++) {
      seen = (await engine.status(runId)).currentSteps;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(seen.length).toBe(1);
    expect(seen[0]).toMatch(/^s[1-6]$/);
    const outcome = await engine.result(runId, { timeoutMs: 30_000 });
    expect(outcome).toMatchObject({ status: 'succeeded', output: { s6: { value: 6 } } });
    const info = await engine.status(runId);
    expect(info).toMatchObject({ status: 'succeeded', engine: 'bullmq', pipeline: 'slow-chain', currentSteps: [] });
    expect(info.attempts.map((a) => `${a.stepPath}:${a.status}`)).toEqual(['s1', 's2', 's3', 's4', 's5', 's6'].map((s) => `${s}:succeeded`));
    await new Promise((r) => setTimeout(r, 50));
    const mine = events.filter((e) => e.runId === runId).map((e) => e.type);
    expect(mine[0]).toBe('run-started');
    expect(mine.filter((t) => t === 'attempt-started')).toHaveLength(6);
    expect(mine.filter((t) => t === 'attempt-finished')).toHaveLength(6);
    expect(mine.at(-1)).toBe('run-finished');
  });

  it('start with a given run id is idempotent and list shows runs newest first', async () => {
    const runId = `fixed-${randomBytes(3).toString('hex')}`;
    const probe = createProbeDir();
    await engine.start('slow-chain', { probe, delayMs: 0 }, { runId });
    await engine.start('slow-chain', { probe, delayMs: 0 }, { runId });
    expect((await engine.result(runId, { timeoutMs: 30_000 })).status).toBe('succeeded');
    const rows = await engine.list({ pipeline: 'slow-chain' });
    expect(rows[0]!.runId).toBe(runId);
    expect(rows.every((r) => r.engine === 'bullmq' && r.status === 'succeeded')).toBe(true);
    expect(await engine.list({ status: 'failed' })).toEqual([]);
  });

  it('refuses unknown runs and redriving a run that did not fail', async () => {
    await expect(engine.result('no-such-run', { timeoutMs: 1000 })).rejects.toThrow(/unknown run/);
    await expect(engine.status('no-such-run')).rejects.toThrow(/unknown run/);
    const { runId } = await engine.start('slow-chain', { probe: createProbeDir(), delayMs: 0 });
    await engine.result(runId, { timeoutMs: 30_000 });
    await expect(engine.redrive(runId)).rejects.toThrow(/has not failed/);
  });
});
