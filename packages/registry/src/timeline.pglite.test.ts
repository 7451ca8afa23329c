import { createLocalEngine, definePipeline, defineStage, type ReviewNotice } from '@baton/core';
import { PGlite } from '@electric-sql/pglite';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createRegistryObserver } from './observer.js';
import { createPgliteRegistry } from './pglite.js';

const db = await PGlite.create();
const dir = mkdtempSync(join(tmpdir(), 'baton-timeline-'));
afterAll(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

const slow = defineStage({
  name: 'slow',
  version: 1,
  input: z.unknown(),
  output: z.object({ at: z.number() }),
  async run() {
    await new Promise((r) => setTimeout(r, 30));
    return { at: Date.now() };
  },
});

const pipeline = definePipeline({ name: 'resumable', version: 1, input: z.object({ items: z.array(z.number()) }) })
  .task('draft', slow, { resultPath: '$.draft' })
  .map('sections', { items: '$.items', resultPath: '$.sections' }, (b) => b.task('write', slow))
  .approval('review', { gate: 'editor', timeoutSeconds: 3600, resultPath: '$.review' })
  .task('publish', slow, { resultPath: '$.published' })
  .build();

describe('the timeline after a resume', () => {
  it('keeps the times the steps really ran, in their real order, when a resumed run walks past finished steps', async () => {
    const registry = await createPgliteRegistry({ db, schema: 'timeline' });
    const observer = createRegistryObserver(registry);
    const notices: ReviewNotice[] = [];
    const first = createLocalEngine({ pipelines: [pipeline], observer, dir, notifier: (n) => void notices.push(n) });
    const { runId } = await first.start('resumable', { items: [1, 2] });
    for (let i = 0; i < 200 && notices.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await first.close();
    await observer.flush();
    const before = (await registry.getRun(runId))!.steps;
    expect(before.map((s) => s.stepPath)).toEqual(['draft', 'sections', 'sections[0]/write', 'sections[1]/write', 'review']);

    await new Promise((r) => setTimeout(r, 50)); // the resume happens later than every step above
    const second = createLocalEngine({ pipelines: [pipeline], observer, dir, notifier: (n) => void notices.push(n) });
    expect(await second.recover()).toEqual([runId]);
    for (let i = 0; i < 200 && notices.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    await second.approve(runId, 'editor', { token: notices.at(-1)!.token, reviewer: 'ana' });
    expect((await second.result(runId)).status).toBe('succeeded');
    await second.close();
    await observer.flush();

    const after = (await registry.getRun(runId))!.steps;
    const byPath = new Map(after.map((s) => [s.stepPath, s]));
    for (const s of before.filter((x) => x.status === 'succeeded')) {
      expect([s.stepPath, byPath.get(s.stepPath)?.startedAt, byPath.get(s.stepPath)?.finishedAt]).toEqual([s.stepPath, s.startedAt, s.finishedAt]);
    }
    // the review gate opened before the resume and keeps that start; publish ran last
    expect(byPath.get('review')?.startedAt).toBe(before.find((s) => s.stepPath === 'review')?.startedAt);
    expect(after.map((s) => s.stepPath)).toEqual(['draft', 'sections', 'sections[0]/write', 'sections[1]/write', 'review', 'publish']);
    expect(after.every((s) => s.status === 'succeeded')).toBe(true);
    await registry.close();
  });
});
