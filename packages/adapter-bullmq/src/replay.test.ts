import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createMemoryBlobStore, defineStage, definePipeline } from '@baton/core';
import { foldJournal, type JournalEntry } from '@baton/core/engine';
import { LiveRun, type TaskOrder } from './replay.js';

const double = defineStage({
  name: 'double',
  version: 1,
  input: z.object({ value: z.number() }),
  output: z.object({ value: z.number() }),
  retry: [{ errors: ['ThrottlingException'], intervalMs: 100, maxAttempts: 2 }],
  async run(input) {
    return { value: input.value * 2 };
  },
});

const pipeline = definePipeline({ name: 'p', version: 1, input: z.object({ items: z.array(z.number()) }) })
  .task('first', double, { input: { value: 1 }, resultPath: '$.first' })
  .map('items', { items: '$.items', itemSelector: { 'value.$': '$$.Map.Item.Value' }, maxConcurrency: 2, resultPath: '$.results' }, (b) =>
    b.task('a', double, { resultPath: '$.a' }).task('b', double, { input: { 'value.$': '$.a.value' }, resultPath: '$.b' }),
  )
  .build();

const blobs = createMemoryBlobStore();
const start: JournalEntry = { t: 'start', runId: 'r1', pipeline: 'p', input: { items: [1, 2, 3, 4, 5] }, at: '2026-01-01T00:00:00.000Z' };
const key = (t: TaskOrder): string => `${t.stepPath}#${t.attempt}`;

function outcomeOf(t: TaskOrder, throttle: Set<string>): JournalEntry {
  const base = { t: 'task' as const, path: t.stepPath, stage: t.stage, hash: t.hash, attempt: t.attempt, startedAt: '', at: '' };
  if (throttle.has(key(t))) return { ...base, ok: false, error: { code: 'ThrottlingException', message: 'slow down', retryable: true } };
  return { ...base, ok: true, output: { value: (t.input as { value: number }).value * 2 } };
}

describe('LiveRun', () => {
  it('advancing one interpreter entry by entry orders exactly what a fresh replay would, and never more than maxConcurrency items', async () => {
    const entries: JournalEntry[] = [start];
    const live = new LiveRun({ runId: 'r1', pipeline, gen: 0, blobs });
    const outstanding = new Map<string, TaskOrder>();
    const throttle = new Set(['items[2]/a#1']);
    let maxItemsInFlight = 0;
    for (let step = 0; step < 100; step++) {
      const state = foldJournal(entries);
      const plan = await live.advance(state);
      for (const t of plan.tasks) outstanding.set(key(t), t);
      const fresh = await new LiveRun({ runId: 'r1', pipeline, gen: 0, blobs }).advance(foldJournal(entries));
      expect(new Set(fresh.tasks.map(key))).toEqual(new Set(outstanding.keys()));
      if (plan.outcome) {
        expect(fresh.outcome).toEqual(plan.outcome);
        expect(plan.outcome).toMatchObject({ status: 'succeeded' });
        const results = (plan.outcome as { output: { results: { output: { b: { value: number } } }[] } }).output.results;
        expect(results.map((r) => r.output.b.value)).toEqual([4, 8, 12, 16, 20]);
        expect(outstanding.size).toBe(0);
        expect(maxItemsInFlight).toBe(2);
        return;
      }
      maxItemsInFlight = Math.max(
        maxItemsInFlight,
        new Set([...outstanding.values()].filter((t) => t.stepPath.startsWith('items[')).map((t) => t.stepPath.split('/')[0])).size,
      );
      // complete the most recent order first: outcomes arrive out of order
      const next = [...outstanding.values()].at(-1)!;
      outstanding.delete(key(next));
      entries.push(outcomeOf(next, throttle));
      if (plan.retries.length) entries.push(...plan.retries.map((r) => ({ t: 'retry' as const, ...r })));
      for (const timer of plan.timers) entries.push({ t: 'timer', key: timer.key, dueAt: timer.dueAt });
    }
    throw new Error('the run did not end');
  });

  it('a retried attempt is ordered once, with the retry delay on its task job', async () => {
    const entries: JournalEntry[] = [{ ...start, input: { items: [] } }];
    const live = new LiveRun({ runId: 'r1', pipeline, gen: 0, blobs, now: () => 1_000 });
    const first = await live.advance(foldJournal(entries));
    expect(first.tasks.map(key)).toEqual(['first#1']);
    entries.push(outcomeOf(first.tasks[0]!, new Set(['first#1'])));
    const second = await live.advance(foldJournal(entries));
    expect(second.retries).toEqual([{ path: 'first', attempt: 1, code: 'ThrottlingException', delayMs: 100, maxDelayMs: 100 }]);
    expect(second.timers).toEqual([{ key: 'first#1:retry', dueAt: 1_100 }]);
    expect(second.tasks.map((t) => [key(t), t.delayMs])).toEqual([['first#2', 100]]);
  });
});
