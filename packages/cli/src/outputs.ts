import { type BlobStore, type RunInfo } from '@baton/core';
import { pathUnder } from '@baton/core/engine';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { RunCounts } from './progress.js';

/** The report files a run produced: `reports/…` blob keys anywhere in its output. */
export function reportKeys(output: unknown): string[] {
  const keys = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === 'string' && /^reports\/.+\.(docx|pdf|md|html)$/.test(v)) keys.add(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(output);
  return [...keys].sort();
}

/** Copies every report file the run produced to `outDir` (each file name checked to stay in it). */
export async function copyOutputs(blobs: BlobStore, output: unknown, outDir: string): Promise<string[]> {
  const dir = resolve(outDir);
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const key of reportKeys(output)) {
    const file = pathUnder(dir, basename(key));
    writeFileSync(file, await blobs.get(key));
    written.push(file);
  }
  return written;
}

/** The end-of-run summary. */
export function summaryText(info: RunInfo, counts: RunCounts, files: string[]): string {
  const metrics = info.attempts.reduce(
    (a, x) => ({
      calls: a.calls + (x.metrics?.modelCalls ?? 0),
      inTok: a.inTok + (x.metrics?.inputTokens ?? 0),
      outTok: a.outTok + (x.metrics?.outputTokens ?? 0),
      cost: x.metrics?.cost === undefined ? a.cost : (a.cost ?? 0) + x.metrics.cost,
    }),
    { calls: 0, inTok: 0, outTok: 0, cost: undefined as number | undefined },
  );
  const failedSteps = info.attempts.filter((a) => a.status === 'failed');
  const sections = (info.output as { report?: { sections?: Record<string, number> } } | undefined)?.report?.sections;
  const lines = [
    '',
    `Run ${info.runId} (${info.pipeline} on ${info.engine}): ${info.status.toUpperCase()}`,
    `  attempts ${info.attempts.length}, retries ${info.retries.length}, repairs ${counts.repairs}, failed attempts ${failedSteps.length}, held for review ${counts.held}`,
    `  model calls ${metrics.calls}, tokens in ${metrics.inTok} / out ${metrics.outTok}${metrics.cost === undefined ? '' : `, cost $${metrics.cost.toFixed(4)}`}`,
  ];
  if (sections)
    lines.push(
      `  sections: ${Object.entries(sections)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
  for (const a of failedSteps.slice(0, 12)) lines.push(`  ! ${a.stepPath} attempt ${a.attempt}: ${a.error?.code}: ${a.error?.message}`);
  if (failedSteps.length > 12) lines.push(`  … and ${failedSteps.length - 12} more failed attempts (baton status ${info.runId})`);
  if (info.error) lines.push(`  error: ${info.error.code}: ${info.error.message}`);
  if (info.status === 'failed') lines.push(`  Fix the cause, then: baton redrive ${info.runId}`);
  if (files.length) lines.push('  outputs:', ...files.map((f) => `    ${f}`));
  return lines.join('\n');
}

/** Writes a JSON file (for `--json` outputs). */
export function writeJson(file: string, value: unknown): void {
  writeFileSync(file, JSON.stringify(value, null, 2));
}
