import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { bundleBatonWorkflow } from './bundle.js';
import { quietTemporalRuntime } from './test-support/quiet.js';
import { replaySinks } from './test-support/replay.js';

quietTemporalRuntime();

/*
 * Histories recorded from conformance runs (BATON_RECORD_HISTORIES=dir npx vitest run
 * src/conformance.test.ts) and committed: a change to the workflow that would break runs in
 * flight on a deployed server fails here. No server needed.
 */
const dir = fileURLToPath(new URL('../test-histories/', import.meta.url));

describe('replay of committed histories', () => {
  it('every recorded conformance history replays against the current workflow code', { timeout: 120_000 }, async () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(15);
    const histories = files.map((f) => ({ workflowId: f.replace(/\.json$/, ''), history: historyFromJSON(JSON.parse(readFileSync(dir + f, 'utf8'))) }));
    const failures: string[] = [];
    let replayed = 0;
    for await (const r of Worker.runReplayHistories({ workflowBundle: await bundleBatonWorkflow(), sinks: replaySinks }, histories)) {
      replayed++;
      if (r.error) failures.push(`${r.workflowId}: ${r.error.message}`);
    }
    expect(failures).toEqual([]);
    expect(replayed).toBe(files.length);
  });

  it('a workflow change that alters the commands is caught as nondeterminism', { timeout: 120_000 }, async () => {
    const file = readdirSync(dir).find((f) => f.startsWith('kit-sequence-'));
    expect(file).toBeDefined();
    const json = JSON.parse(readFileSync(dir + file!, 'utf8')) as { events: { activityTaskScheduledEventAttributes?: { activityType?: { name: string } } }[] };
    // the same history, as if an older workflow version had scheduled another activity type
    for (const e of json.events)
      if (e.activityTaskScheduledEventAttributes?.activityType) e.activityTaskScheduledEventAttributes.activityType.name = 'somethingElse';
    const results: { error?: Error }[] = [];
    for await (const r of Worker.runReplayHistories({ workflowBundle: await bundleBatonWorkflow(), sinks: replaySinks }, [
      { workflowId: 'altered', history: historyFromJSON(json) },
    ]))
      results.push(r);
    expect(results).toHaveLength(1);
    expect(results[0]!.error?.message).toMatch(/nondetermin/i);
  });
});
