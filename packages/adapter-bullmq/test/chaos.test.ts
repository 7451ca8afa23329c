import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { expect, inject, it } from 'vitest';
import { createFsBlobStore, type RunOutcome } from '@baton/core';
import { createProbeDir, readProbe, type ProbeEvent } from '@baton/core/testkit';
import { createBullmqEngine } from '../src/index.js';
import { chaosPipelines } from './fixtures/chaos-pipelines.js';
import { startWorkers } from './workers.js';

const here = dirname(fileURLToPath(import.meta.url));
const RUNS = 20;
const ITEMS = 6;
const MAX_KILLS = 6;

/**
 * Re-executions a probe shows: a step (key + attempt) that started more than once. Each is
 * allowed only if every earlier start ran in a process that was later SIGKILLed, i.e. was in flight.
 */
function reExecutions(events: ProbeEvent[], killed: Set<number>): { allowed: number; forbidden: string[] } {
  const starts = new Map<string, ProbeEvent[]>();
  for (const e of events) {
    if (e.event !== 'start') continue;
    const k = `${e.key}#${e.attempt}`;
    starts.set(k, [...(starts.get(k) ?? []), e]);
  }
  let allowed = 0;
  const forbidden: string[] = [];
  for (const [k, list] of starts) {
    for (const earlier of list.slice(0, -1)) {
      if (killed.has(earlier.pid)) allowed++;
      else forbidden.push(`${k} ran again after pid ${earlier.pid} (never killed) had run it`);
    }
  }
  return { allowed, forbidden };
}

it(`chaos: ${RUNS} map runs on 3 worker processes, one SIGKILLed at random moments`, { timeout: 240_000 }, async () => {
  const redisUrl = inject('redisUrl');
  const prefix = `chaos-${randomBytes(4).toString('hex')}`;
  const blobDir = mkdtempSync(join(tmpdir(), 'baton-chaos-blobs-'));
  const env = { redisUrl, prefix, blobDir, pipelinesModule: join(here, 'fixtures', 'chaos-pipelines.ts'), pipelinesExport: 'chaosPipelines', concurrency: 4 };
  const workers = await startWorkers(3, env);
  const engine = createBullmqEngine({ connection: redisUrl, prefix, pipelines: chaosPipelines, blobs: createFsBlobStore({ root: blobDir }), worker: false });
  try {
    const runs = await Promise.all(
      Array.from({ length: RUNS }, async (_, r) => {
        const probe = createProbeDir();
        const items = Array.from({ length: ITEMS }, (_, i) => ({ n: i, key: `${prefix}-r${r}-i${i}` }));
        const { runId } = await engine.start('chaos-map', { probe, delayMs: 60, items });
        return { runId, probe };
      }),
    );
    let finished = false;
    const outcomes = Promise.all(runs.map((r) => engine.result(r.runId, { timeoutMs: 200_000 }))).finally(() => (finished = true));
    let kills = 0;
    const respawns: Promise<number>[] = [];
    while (!finished && kills < MAX_KILLS) {
      await new Promise((r) => setTimeout(r, 250 + Math.random() * 650));
      if (finished) break;
      const pids = workers.pids;
      if (pids.length < 2) continue;
      workers.kill(pids[Math.floor(Math.random() * pids.length)]!);
      kills++;
      // the replacement starts while the survivors keep working
      respawns.push(workers.spawn());
    }
    const results: RunOutcome[] = await outcomes;
    await Promise.all(respawns);

    expect(results.filter((o) => o.status === 'succeeded')).toHaveLength(RUNS);
    for (const o of results) {
      const out = (o as { output: { results: { status: string; output: { second: { value: number } } }[]; after: { value: number } } }).output;
      expect(out.results.map((x) => x.output.second.value)).toEqual(Array.from({ length: ITEMS }, (_, i) => i + 2));
      expect(out.after).toEqual({ value: 101 });
    }
    let allowed = 0;
    const forbidden: string[] = [];
    const blobWrites = new Map<string, number>();
    for (const r of runs) {
      const events = readProbe(r.probe);
      const re = reExecutions(events, workers.killed);
      allowed += re.allowed;
      forbidden.push(...re.forbidden);
      for (const e of events) if (e.event === 'blob-write') blobWrites.set(e.key, (blobWrites.get(e.key) ?? 0) + 1);
      // every step ran: before, 6 x (first, write x2 attempts, second), after
      expect(new Set(events.filter((e) => e.event === 'start').map((e) => `${e.key}#${e.attempt}`)).size).toBe(2 + ITEMS * 4);
    }
    expect(kills).toBeGreaterThan(0);
    expect(forbidden).toEqual([]);
    // a killed process had at most `concurrency` steps in flight
    expect(allowed).toBeLessThanOrEqual(kills * env.concurrency);
    // every blob is there, and none was written twice (a writer killed between its write and its
    // probe event leaves a blob without a write event: the re-run finds identical bytes)
    const blobs = createFsBlobStore({ root: blobDir });
    const expected = runs.flatMap((_, r) => Array.from({ length: ITEMS }, (_, i) => `kit/${prefix}-r${r}-i${i}/section.txt`));
    expect((await Promise.all(expected.map((k) => blobs.has(k)))).every(Boolean)).toBe(true);
    expect([...blobWrites.values()].every((n) => n === 1)).toBe(true);
    expect(blobWrites.size).toBeGreaterThanOrEqual(RUNS * ITEMS - kills * env.concurrency);
    console.log(
      `chaos: ${RUNS}/${RUNS} runs succeeded, ${kills} SIGKILLs, ${allowed} in-flight steps re-run, ${blobWrites.size} blob writes observed, none twice`,
    );
  } finally {
    await workers.stop();
    await engine.close();
  }
});
