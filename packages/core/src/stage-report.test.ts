import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { StageError, serializeError } from './errors.js';
import type { RunEvent } from './observer.js';
import { createMemoryBlobStore } from './ports/blob-store.js';
import { createTestClock } from './ports/clock.js';
import { defineStage, invokeStage, type AttemptReport, type InvocationResult, type InvokeOptions, type StageContext } from './stage.js';

const clock = createTestClock(Date.parse('2026-01-01T00:00:00.000Z'));
const opts = (extra: Partial<InvokeOptions> = {}): InvokeOptions => ({
  blobs: createMemoryBlobStore(),
  runId: 'run-1',
  stepPath: 'sections[0]/gen',
  attempt: 2,
  clock,
  ...extra,
});
const reported = (report: AttemptReport, extra: Partial<InvokeOptions> = {}): InvokeOptions & { report: AttemptReport } => ({ ...opts(extra), report });

/** A stage that takes 500 ms of the test clock, then returns or throws what `run` says; `log` records when it ran. */
function timedStage(log: string[], end: (ctx: StageContext) => unknown = () => ({ text: 'done' })) {
  return defineStage({
    name: 'gen',
    version: 1,
    input: z.unknown(),
    output: z.unknown(),
    async run(_input, ctx) {
      log.push('stage');
      await clock.advance(500);
      return end(ctx);
    },
  });
}

/** An observer recording every event, and its place among the stage's own steps. */
function recorder(log: string[]): { events: RunEvent[]; observe: (e: RunEvent) => Promise<void> } {
  const events: RunEvent[] = [];
  return {
    events,
    async observe(e) {
      await new Promise((r) => setTimeout(r, 5));
      log.push(e.type);
      events.push(e);
    },
  };
}

describe('invokeStage with report', () => {
  it('emits attempt-started before the stage runs and attempt-finished after it, awaited, timed by its clock', async () => {
    const log: string[] = [];
    const { events, observe } = recorder(log);
    const startedAt = new Date(clock.now()).toISOString();
    const result = await invokeStage(timedStage(log), {}, reported({ observe }));
    const finishedAt = new Date(clock.now()).toISOString();
    expect(log).toEqual(['attempt-started', 'stage', 'attempt-finished']);
    const ref = { runId: 'run-1', stepPath: 'sections[0]/gen', stage: 'gen', attempt: 2 };
    expect(events).toEqual([
      { type: 'attempt-started', ...ref, at: startedAt },
      { type: 'attempt-finished', ...ref, status: 'succeeded', metrics: result.metrics, at: finishedAt },
    ]);
    expect(result).toMatchObject({ ok: true, output: { text: 'done' }, startedAt, finishedAt, finished: events[1] });
    expect(result.metrics.durationMs).toBe(500);
  });

  it('reports a failure with its error, and takes the start time the engine gives', async () => {
    const log: string[] = [];
    const { events, observe } = recorder(log);
    const stage = timedStage(log, () => {
      throw new StageError('ThrottlingException', 'slow down');
    });
    const result = await invokeStage(stage, {}, reported({ observe, startedAt: '2025-12-31T23:59:59.000Z' }));
    expect(result.ok).toBe(false);
    expect(events[0]).toMatchObject({ type: 'attempt-started', at: '2025-12-31T23:59:59.000Z' });
    expect(events[1]).toMatchObject({ type: 'attempt-finished', status: 'failed', error: { code: 'ThrottlingException', message: 'slow down' } });
    expect(result.startedAt).toBe('2025-12-31T23:59:59.000Z');
  });

  it("mapResult has the last word: the event and the returned result carry the engine's error", async () => {
    const log: string[] = [];
    const { events, observe } = recorder(log);
    const stage = timedStage(log, () => {
      throw new StageError('StageFailed', 'stage aborted: budget');
    });
    const timeout = serializeError(new StageError('States.Timeout', 'ran out of its invocation time'));
    const mapResult = (r: InvocationResult): InvocationResult => (r.ok ? r : { ...r, error: timeout });
    const result = await invokeStage(stage, {}, reported({ observe }, { mapResult }));
    expect(result).toMatchObject({ ok: false, error: { code: 'States.Timeout' } });
    expect(events[1]).toMatchObject({
      type: 'attempt-finished',
      status: 'failed',
      error: { code: 'States.Timeout', message: 'ran out of its invocation time' },
    });
    // without report, the result is mapped all the same
    const plain = await invokeStage(stage, {}, opts({ mapResult }));
    expect(plain).toMatchObject({ ok: false, error: { code: 'States.Timeout' } });
    expect(plain).not.toHaveProperty('finishedAt');
  });

  it('reports no attempt-finished when the engine stopped during the attempt', async () => {
    const log: string[] = [];
    const { events, observe } = recorder(log);
    const stop = new AbortController();
    const stage = timedStage(log, () => {
      stop.abort(new Error('worker shutting down'));
      return { text: 'late' };
    });
    const result = await invokeStage(stage, {}, reported({ observe, stopped: stop.signal }));
    expect(log).toEqual(['attempt-started', 'stage']);
    expect(events.map((e) => e.type)).toEqual(['attempt-started']);
    expect(result.ok).toBe(true);
    expect(result.finished).toBeUndefined();
  });

  it('deferFinished leaves attempt-finished to the engine: returned, not observed', async () => {
    const log: string[] = [];
    const { events, observe } = recorder(log);
    const result = await invokeStage(timedStage(log), {}, reported({ observe, deferFinished: true }));
    expect(events.map((e) => e.type)).toEqual(['attempt-started']);
    expect(result.finished).toEqual({
      type: 'attempt-finished',
      runId: 'run-1',
      stepPath: 'sections[0]/gen',
      stage: 'gen',
      attempt: 2,
      status: 'succeeded',
      metrics: result.metrics,
      at: result.finishedAt,
    });
  });
});
