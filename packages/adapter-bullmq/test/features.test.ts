import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { createFsBlobStore, definePipeline, defineStage, isBlobRef, type BlobStore } from '@baton/core';
import { createBullmqEngine, type BullmqEngine } from '../src/index.js';
import { createRunStore } from '../src/store.js';

const stamp = defineStage({
  name: 'stamp',
  version: 1,
  input: z.object({}),
  output: z.object({ at: z.number() }),
  async run() {
    return { at: Date.now() };
  },
});

const many = defineStage({
  name: 'many',
  version: 1,
  input: z.object({ n: z.number() }),
  output: z.object({ items: z.array(z.object({ i: z.number(), pad: z.string() })) }),
  async run(input) {
    return { items: Array.from({ length: input.n }, (_, i) => ({ i, pad: 'x'.repeat(500) })) };
  },
});

const square = defineStage({
  name: 'square',
  version: 1,
  input: z.object({ i: z.number() }),
  output: z.object({ sq: z.number() }),
  async run(input) {
    return { sq: input.i * input.i };
  },
});

const waiting = definePipeline({ name: 'waiting', version: 1, input: z.object({ seconds: z.number() }) })
  .task('before', stamp, { input: {}, resultPath: '$.before' })
  .wait('pause', { secondsPath: '$.seconds' })
  .task('after', stamp, { input: {}, resultPath: '$.after' })
  .build();

const claimMap = definePipeline({ name: 'claim-map', version: 1, input: z.object({ n: z.number() }) })
  .task('make', many, { input: { 'n.$': '$.n' }, resultPath: '$.made' })
  .map('each', { items: '$.made.items', itemSelector: { 'i.$': '$$.Map.Item.Value.i' }, maxConcurrency: 10, resultPath: '$.squares' }, (b) =>
    b.task('square', square),
  )
  .build();

const pipelines = [waiting, claimMap];

function engineOn(prefix: string, blobs: BlobStore): BullmqEngine {
  return createBullmqEngine({ connection: inject('redisUrl'), prefix, pipelines, blobs, worker: { lockDurationMs: 5000, stalledIntervalMs: 1000 } });
}

describe('bullmq engine features beyond the kit', () => {
  it('a wait is durable: the engine and its worker go away during the wait and a new one finishes the run on time', { timeout: 60_000 }, async () => {
    const prefix = `wait-${randomBytes(4).toString('hex')}`;
    const blobs = createFsBlobStore({ root: mkdtempSync(join(tmpdir(), 'baton-wait-')) });
    const first = engineOn(prefix, blobs);
    const { runId } = await first.start('waiting', { seconds: 3 });
    for (let i = 0; i < 200 && (await first.status(runId)).attempts.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await first.close();
    await new Promise((r) => setTimeout(r, 500));
    const second = engineOn(prefix, blobs);
    try {
      const info = await second.status(runId);
      expect(info.status).toBe('running');
      expect(info.currentSteps).toEqual([]);
      const outcome = await second.result(runId, { timeoutMs: 30_000 });
      expect(outcome.status).toBe('succeeded');
      const out = (outcome as { output: { before: { at: number }; after: { at: number } } }).output;
      expect(out.after.at - out.before.at).toBeGreaterThanOrEqual(3000);
      expect(out.after.at - out.before.at).toBeLessThan(3000 + 5000);
    } finally {
      await second.close();
    }
  });

  it('a map over a claim-checked array resolves the items and keeps results in order', { timeout: 60_000 }, async () => {
    const prefix = `claim-${randomBytes(4).toString('hex')}`;
    const engine = engineOn(prefix, createFsBlobStore({ root: mkdtempSync(join(tmpdir(), 'baton-claim-')) }));
    try {
      const { runId } = await engine.start('claim-map', { n: 120 });
      const outcome = await engine.result(runId, { timeoutMs: 30_000 });
      expect(outcome.status).toBe('succeeded');
      const out = (outcome as { output: { made: Record<string, unknown>; squares: { output: { sq: number } }[] } }).output;
      // the 60 KB array travelled as a reference (the run's state keeps it; result() answers values)
      const state = (await engine.status(runId)).output as { made: Record<string, unknown> };
      expect(isBlobRef(state.made) || isBlobRef(state.made.items)).toBe(true);
      expect(isBlobRef(out.made) || isBlobRef(out.made.items)).toBe(false);
      expect(out.squares.map((s) => s.output.sq)).toEqual(Array.from({ length: 120 }, (_, i) => i * i));
    } finally {
      await engine.close();
    }
  });

  it('a run whose start was journaled but never scheduled (crash between the two) is resumed by the next worker to start', { timeout: 60_000 }, async () => {
    const prefix = `lost-${randomBytes(4).toString('hex')}`;
    const store = createRunStore(inject('redisUrl'), prefix);
    const runId = `lost-${randomBytes(3).toString('hex')}`;
    await store.record(runId, {
      field: 'start',
      entries: [{ t: 'start', runId, pipeline: 'claim-map', input: { n: 3 }, at: new Date().toISOString() }],
      indexAt: Date.now(),
    });
    await store.close();
    const engine = engineOn(prefix, createFsBlobStore({ root: mkdtempSync(join(tmpdir(), 'baton-lost-')) }));
    try {
      const outcome = await engine.result(runId, { timeoutMs: 30_000 });
      expect(outcome).toMatchObject({ status: 'succeeded', output: { squares: [{ output: { sq: 0 } }, { output: { sq: 1 } }, { output: { sq: 4 } }] } });
    } finally {
      await engine.close();
    }
  });
});
