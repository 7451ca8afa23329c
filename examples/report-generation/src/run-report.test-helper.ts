import { createLocalEngine, createMemoryBlobStore, type RunInfo, type RunOutcome } from '@baton/core';
import { createOfflineModel, type OfflineFaults } from '@baton/stages';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { reportPipeline } from './pipeline.js';

/** The sample sources of this example. */
export const SOURCES_DIR = join(import.meta.dirname, '..', 'sources');

/** Reads the sample sources (optionally without some) as name + bytes. */
export function sampleSources(except: string[] = []): { name: string; bytes: Uint8Array }[] {
  return readdirSync(SOURCES_DIR)
    .filter((n) => !except.includes(n))
    .sort()
    .map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(SOURCES_DIR, name))) }));
}

/**
 * Runs the report pipeline on an in-memory local engine with the offline model, approving the
 * review gate through the engine API with the token the notifier delivered.
 */
export async function runReport(options: { faults?: OfflineFaults; sources?: { name: string; bytes: Uint8Array }[]; maxSourceBytes?: number } = {}) {
  const blobs = createMemoryBlobStore();
  const model = createOfflineModel({ faults: options.faults ?? {} });
  const reviews: string[] = [];
  const engine = createLocalEngine({
    pipelines: [reportPipeline],
    blobs,
    model,
    notifier: (notice) => {
      reviews.push(notice.gate);
      setTimeout(() => void engine.approve(notice.runId, notice.gate, { token: notice.token, reviewer: 'test' }), 0);
    },
  });
  const sources = options.sources ?? sampleSources();
  const refs = [];
  for (const s of sources) {
    await blobs.put(`sources/${s.name}`, s.bytes);
    refs.push({ key: `sources/${s.name}`, name: s.name });
  }
  const { runId } = await engine.start(reportPipeline, { sources: refs, ...(options.maxSourceBytes ? { maxSourceBytes: options.maxSourceBytes } : {}) });
  const outcome: RunOutcome = await engine.result(runId, { timeoutMs: 50_000 });
  const info: RunInfo = await engine.status(runId);
  await engine.close();
  return { runId, outcome, info, blobs, model, reviews };
}

/** Attempts of one step path. */
export function attemptsOf(info: RunInfo, stepPath: string): RunInfo['attempts'] {
  return info.attempts.filter((a) => a.stepPath === stepPath);
}
