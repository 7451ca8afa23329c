import type { RunEvent } from '@baton/core';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { auditRunRecord } from './audit.js';
import { createRegistryObserver } from './observer.js';
import { createPgliteRegistry } from './pglite.js';
import type { RunRegistry } from './types.js';

// PGlite's start is the slow part: one instance for the file, a schema per test
const db = await PGlite.create();
afterAll(() => db.close());
let n = 0;
const fresh = (): Promise<RunRegistry> => createPgliteRegistry({ db, schema: `obs_${n++}` });

describe('createRegistryObserver', () => {
  it('writes events in arrival order even when the engine does not await them', async () => {
    const registry = await fresh();
    const observer = createRegistryObserver(registry);
    const at = (s: number): string => new Date(Date.UTC(2026, 10, 23, 9, 0, s)).toISOString();
    const events: RunEvent[] = [{ type: 'run-started', runId: 'o', pipeline: 'p', engine: 'local', input: {}, at: at(0) }];
    for (let i = 0; i < 30; i++) {
      const stepPath = `items[${i}]/work`;
      events.push(
        { type: 'step-started', runId: 'o', stepPath, kind: 'task', at: at(1) },
        { type: 'attempt-started', runId: 'o', stepPath, stage: 'work', attempt: 1, at: at(1) },
        { type: 'attempt-finished', runId: 'o', stepPath, stage: 'work', attempt: 1, status: 'succeeded', at: at(2) },
        { type: 'step-finished', runId: 'o', stepPath, kind: 'task', status: 'succeeded', at: at(2) },
      );
    }
    events.push({ type: 'run-finished', runId: 'o', status: 'succeeded', output: 1, at: at(3) });
    // fire and forget, as the local engine does
    for (const e of events) void observer(e);
    await observer.flush();
    const run = await registry.getRun('o');
    expect(run?.status).toBe('succeeded');
    expect(run?.steps).toHaveLength(30);
    expect(run?.steps.every((s) => s.status === 'succeeded')).toBe(true);
    expect(run?.attempts.map((a) => a.mapIndex).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(observer.failures).toBe(0);
    await registry.close();
  });

  it('never throws into the engine: a failed write is counted and logged', async () => {
    const broken: RunRegistry = {
      apply: async () => {
        throw new Error('database down');
      },
      applyAll: async () => {
        throw new Error('database down');
      },
    } as unknown as RunRegistry;
    const logged: string[] = [];
    const logger = { error: (msg: string, b?: Record<string, unknown>) => void logged.push(`${msg}: ${String(b?.error)}`) };
    const observer = createRegistryObserver(broken, { logger: logger as never });
    await observer({ type: 'run-finished', runId: 'x', status: 'succeeded', at: new Date().toISOString() });
    await observer.flush();
    expect(observer.failures).toBe(1);
    expect(logged).toEqual(['run registry write failed: database down']);
  });

  it('keeps the good events of a batch when one of them cannot be written', async () => {
    const registry = await fresh();
    const observer = createRegistryObserver(registry);
    const at = new Date().toISOString();
    void observer({ type: 'run-started', runId: 'g', pipeline: 'p', engine: 'local', input: {}, at });
    // a timestamp PostgreSQL cannot parse fails its statement, and so the whole batch
    void observer({ type: 'step-started', runId: 'g', stepPath: 'bad', kind: 'task', at: 'not a time' });
    void observer({ type: 'step-started', runId: 'g', stepPath: 's', kind: 'task', at });
    await observer.flush();
    expect(observer.failures).toBe(1);
    expect((await registry.getRun('g'))?.steps.map((s) => s.stepPath)).toEqual(['s']);
    await registry.close();
  });
});

describe('auditRunRecord', () => {
  it('names what the registry is missing compared with the engine', async () => {
    const { createLocalEngine } = await import('@baton/core');
    const { reportPipeline, fixedModel } = await import('./test-support/report-pipeline.js');
    const registry = await fresh();
    const observer = createRegistryObserver(registry);
    // drop every attempt-finished event: the audit must notice
    const engine = createLocalEngine({
      pipelines: [reportPipeline],
      model: fixedModel,
      observer: (e) => (e.type === 'attempt-finished' ? undefined : observer(e)),
    });
    const { runId } = await engine.start('test-report', { title: 'T', topics: ['a'] });
    for (let i = 0; i < 200 && (await engine.status(runId)).status !== 'waiting'; i++) await new Promise((r) => setTimeout(r, 20));
    await observer.flush();
    const audit = await auditRunRecord(registry, engine, runId);
    expect(audit.ok).toBe(false);
    expect(audit.problems).toContain('attempt missing from the registry: outline#1:succeeded');
    expect(audit.problems).toContain('attempt the engine does not report: outline#1:running');
    await engine.close();
    await registry.close();
  });
});
