import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createMemoryBlobStore } from '@baton/core';
import { createProbeDir, readProbe, startCounts } from '@baton/core/testkit';
import { createTemporalEngine, type TemporalEngine } from './engine.js';
import { testPipelines } from './test-support/pipelines.js';
import { quietTemporalRuntime } from './test-support/quiet.js';
import { snapshotQuery } from './workflow/contract.js';

quietTemporalRuntime();
const address = inject('temporalAddress');

/** The executions of a run, once visibility (eventually consistent) lists the completed one. */
async function executionsOf(client: Client, runId: string): Promise<{ status: string; historyLength: number }[]> {
  const executions: { status: string; historyLength: number }[] = [];
  for (let i = 0; i < 50 && !executions.some((e) => e.status === 'COMPLETED'); i++) {
    if (i) await new Promise((r) => setTimeout(r, 100));
    executions.length = 0;
    for await (const wf of client.workflow.list({ query: `WorkflowId = '${runId}'` }))
      executions.push({ status: wf.status.name, historyLength: wf.historyLength });
  }
  return executions;
}

describe('large maps continue as new instead of growing one history', () => {
  const taskQueue = `can-${randomUUID()}`;
  let engine: TemporalEngine;

  beforeAll(() => {
    engine = createTemporalEngine({ pipelines: testPipelines, address, taskQueue, blobs: createMemoryBlobStore(), continueAsNewAfterEvents: 300 });
  });
  afterAll(async () => {
    await engine?.close();
  });

  it('a 400-item map spans several executions, each under the event budget, every item run once', { timeout: 120_000 }, async () => {
    const probe = createProbeDir();
    const items = Array.from({ length: 400 }, (_, i) => i);
    const { runId } = await engine.start('test-map', { probe, items, delayMs: 0, failIndexes: [] });
    const outcome = await engine.result(runId, { timeoutMs: 100_000 });
    expect(outcome, JSON.stringify(outcome).slice(0, 500)).toMatchObject({ status: 'succeeded' });
    const results = (outcome as { output: { results: { output: { value: number } }[] } }).output.results;
    expect(results.map((r) => r.output.value)).toEqual(items.map((i) => i * 2));
    const counts = startCounts(readProbe(probe), 'kit-item');
    expect(counts.size).toBe(400);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);

    const client = await engine.client();
    const executions = await executionsOf(client, runId);
    expect(executions.filter((e) => e.status === 'CONTINUED_AS_NEW').length).toBeGreaterThanOrEqual(2);
    // a drain waits for activities in flight (at most maxConcurrency 10, a few events each)
    for (const e of executions) expect(e.historyLength).toBeLessThan(300 + 10 * 6 + 20);
    const snapshot = await client.workflow.getHandle(runId).query(snapshotQuery);
    expect(snapshot.generation).toBe(executions.length - 1);
    expect(snapshot.attempts.filter((a) => a.status === 'succeeded')).toHaveLength(400);
  });

  it('when the carried state would not fit one payload, the run stays in its execution instead of getting stuck', { timeout: 120_000 }, async () => {
    const probe = createProbeDir();
    const items = Array.from({ length: 120 }, (_, i) => i);
    const { runId } = await engine.start('test-big-map', { probe, items });
    const outcome = await engine.result(runId, { timeoutMs: 100_000 });
    expect(outcome, JSON.stringify(outcome).slice(0, 500)).toMatchObject({ status: 'succeeded' });
    const counts = startCounts(readProbe(probe), 'kit-big');
    expect(counts.size).toBe(120);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    const client = await engine.client();
    const executions = await executionsOf(client, runId);
    const last = executions.find((e) => e.status === 'COMPLETED');
    // 120 items x 20 KB = 2.4 MB of outputs: the later executions could not carry them all
    expect(last?.historyLength).toBeGreaterThan(300 + 10 * 6 + 20);
  });
});
