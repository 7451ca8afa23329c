import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { expect, inject, it } from 'vitest';
import { createFsBlobStore, type AnyPipeline, type RunOutcome } from '@baton/core';
import { sha256Hex } from '@baton/core/engine';
import { createBullmqEngine, type BullmqEngine } from '../src/index.js';
import { startWorkers } from './workers.js';

const here = dirname(fileURLToPath(import.meta.url));
const exampleDir = resolve(here, '../../../examples/report-generation');
const RUNS = Number(process.env.REPORT_RUNS ?? 20);
const MAX_KILLS = 5;

interface Trace {
  event: 'execute' | 'blob-write';
  pid: number;
  runId?: string;
  stepPath?: string;
  attempt?: number;
  key?: string;
}

it(`chaos: ${RUNS} report runs (offline model) on 3 worker processes, one SIGKILLed at random moments`, { timeout: 600_000 }, async () => {
  const redisUrl = inject('redisUrl');
  const prefix = `report-${randomBytes(4).toString('hex')}`;
  const blobDir = mkdtempSync(join(tmpdir(), 'baton-report-blobs-'));
  const traceFile = join(mkdtempSync(join(tmpdir(), 'baton-report-trace-')), 'trace.jsonl');
  const pipelinesModule = join(exampleDir, 'src', 'index.ts');
  const { pipelines } = (await import(pipelinesModule)) as { pipelines: AnyPipeline[] };
  const blobs = createFsBlobStore({ root: blobDir });
  const sourcesDir = join(exampleDir, 'sources');
  // Each run gets its own copy of the text sources (a marker line makes their bytes unique), so
  // content-addressed keys such as `ingested/<hash>.json` belong to one run: two runs ingesting the
  // same bytes at once would both write the same key, which is not a duplicated step.
  const sourcesFor = (run: number): Promise<{ key: string; name: string }[]> =>
    Promise.all(
      readdirSync(sourcesDir)
        .filter((name) => /\.(md|txt|html)$/.test(name))
        .map(async (name) => {
          const bytes = Buffer.concat([readFileSync(join(sourcesDir, name)), Buffer.from(`\n\nCopy ${run} of ${prefix}.\n`)]);
          const key = `sources/${sha256Hex(bytes).slice(0, 16)}/${name}`;
          await blobs.put(key, bytes);
          return { key, name };
        }),
    );
  const workers = await startWorkers(3, {
    redisUrl,
    prefix,
    blobDir,
    pipelinesModule,
    pipelinesExport: 'pipelines',
    concurrency: 4,
    model: { module: '@baton/stages', export: 'createOfflineModel' },
    traceFile,
  });
  let approvals = 0;
  // per run: notices received and approvals settled, for the message of a run that does not end
  const noticesOf = new Map<string, string[]>();
  const note = (runId: string, what: string): void => void noticesOf.set(runId, [...(noticesOf.get(runId) ?? []), what]);
  const engine: BullmqEngine = createBullmqEngine({
    connection: redisUrl,
    prefix,
    pipelines,
    blobs,
    worker: false,
    // the reviewer approves every report as soon as its gate opens
    notifier: (n) => {
      note(n.runId, `notice ${new Date().toISOString()}`);
      void engine
        .approve(n.runId, n.gate, { token: n.token, comment: 'auto' })
        .then(() => (approvals++, note(n.runId, 'approved')))
        .catch((e: unknown) => {
          note(n.runId, `approve failed: ${(e as Error).message}`);
          console.error(`auto-approval of ${n.runId} failed`, e);
        });
    },
  });
  try {
    const runIds = await Promise.all(Array.from({ length: RUNS }, async (_, r) => (await engine.start('report', { sources: await sourcesFor(r) })).runId));
    let finished = false;
    let kills = 0;
    // a run that does not end fails the test with where it stands (steps in flight, open reviews)
    const outcomes = Promise.all(
      runIds.map((id) =>
        engine.result(id, { timeoutMs: 300_000 }).catch(async (e: unknown) => {
          const info = await engine.status(id);
          const running = info.attempts.filter((a) => a.status === 'running').map((a) => a.stepPath);
          throw new Error(
            `${(e as Error).message}; status ${info.status}, ${info.attempts.length} attempts, running [${running.join(', ')}], open reviews ${info.pendingReviews.length} (opened ${info.pendingReviews.map((r) => r.createdAt).join(', ')}), this run's notices [${(noticesOf.get(id) ?? []).join('; ')}], approvals so far ${approvals}/${RUNS}, kills ${kills}`,
            { cause: e },
          );
        }),
      ),
    ).finally(() => (finished = true));
    const respawns: Promise<number>[] = [];
    while (!finished && kills < MAX_KILLS) {
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 900));
      if (finished) break;
      const pids = workers.pids;
      if (pids.length < 2) continue;
      workers.kill(pids[Math.floor(Math.random() * pids.length)]!);
      kills++;
      respawns.push(workers.spawn());
    }
    const results: RunOutcome[] = await outcomes;
    await Promise.all(respawns);

    const failed = results.filter((o) => o.status !== 'succeeded');
    expect(failed, JSON.stringify(failed[0])).toEqual([]);
    expect(approvals).toBe(RUNS);
    expect(kills).toBeGreaterThan(0);
    const traces = existsSync(traceFile)
      ? readFileSync(traceFile, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Trace)
      : [];
    // stage executions: a step attempt may run again only if every earlier execution was in a killed process
    const executions = new Map<string, Trace[]>();
    for (const t of traces.filter((x) => x.event === 'execute')) {
      const k = `${t.runId}/${t.stepPath}#${t.attempt}`;
      executions.set(k, [...(executions.get(k) ?? []), t]);
    }
    const forbidden: string[] = [];
    let reRuns = 0;
    for (const [k, list] of executions) {
      for (const earlier of list.slice(0, -1)) {
        if (workers.killed.has(earlier.pid)) reRuns++;
        else forbidden.push(`${k} ran again after pid ${earlier.pid} (never killed) ran it`);
      }
    }
    expect(forbidden).toEqual([]);
    expect(reRuns).toBeLessThanOrEqual(kills * 4);
    // every attempt the journals record was executed; none is missing from the counters
    const journaled = (await Promise.all(runIds.map((id) => engine.status(id)))).flatMap((i) => i.attempts.map((a) => `${i.runId}/${a.stepPath}#${a.attempt}`));
    expect(new Set(journaled)).toEqual(new Set(executions.keys()));
    // blob writes: a key is written twice only when the first writer was killed in flight
    const writes = new Map<string, number[]>();
    for (const t of traces.filter((x) => x.event === 'blob-write')) writes.set(t.key!, [...(writes.get(t.key!) ?? []), t.pid]);
    const duplicated = [...writes].filter(([, pids]) => pids.slice(0, -1).some((p) => !workers.killed.has(p)));
    expect(duplicated).toEqual([]);
    console.log(
      `report chaos: ${RUNS}/${RUNS} reports, ${kills} SIGKILLs, ${executions.size} step attempts, ${reRuns} re-run after a kill, ${writes.size} blobs, ${[...writes.values()].filter((p) => p.length > 1).length} rewritten after a kill (${[
        ...writes,
      ]
        .filter(([, p]) => p.length > 1)
        .map(([k]) => k)
        .join(', ')})`,
    );
  } finally {
    await workers.stop();
    await engine.close();
  }
});
