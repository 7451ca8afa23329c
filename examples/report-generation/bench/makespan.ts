/**
 * Map makespan vs the ideal schedule for the sections map of the report pipeline, on the local
 * engine with the offline model given a fixed simulated latency per call. Prints ratios measured
 * side by side in one run; nothing here is asserted.
 * Run: npx tsx examples/report-generation/bench/makespan.ts [latencyMs=200]
 */
import { createLocalEngine, createMemoryBlobStore, type RunEvent } from '@baton/core';
import { createOfflineModel } from '@baton/stages';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { reportPipeline } from '../src/pipeline.js';

const latency = Number(process.argv[2] ?? 200);
const sourcesDir = join(import.meta.dirname, '..', 'sources');

async function once(latencyMs: number): Promise<{ makespan: number; total: number; sections: number }> {
  const blobs = createMemoryBlobStore();
  const marks = new Map<string, number>();
  const onEvent = (e: RunEvent): void => {
    if ((e.type === 'step-started' || e.type === 'step-finished') && e.stepPath === 'sections') marks.set(e.type, performance.now());
  };
  const engine = createLocalEngine({
    pipelines: [reportPipeline],
    blobs,
    model: createOfflineModel({ latencyMs }),
    observer: onEvent,
    notifier: (n) => void setTimeout(() => void engine.approve(n.runId, n.gate, { token: n.token }), 0),
  });
  const sources = [];
  for (const name of readdirSync(sourcesDir).sort()) {
    await blobs.put(`s/${name}`, new Uint8Array(readFileSync(join(sourcesDir, name))));
    sources.push({ key: `s/${name}`, name });
  }
  const t0 = performance.now();
  const { runId } = await engine.start(reportPipeline, { sources });
  const outcome = await engine.result(runId);
  const total = performance.now() - t0;
  await engine.close();
  if (outcome.status !== 'succeeded') throw new Error(`run failed: ${JSON.stringify(outcome)}`);
  const makespan = marks.get('step-finished')! - marks.get('step-started')!;
  return { makespan, total, sections: (outcome.output as { sections: unknown[] }).sections.length };
}

await once(0); // warm up module loading and JIT
const base = await once(0);
const timed = await once(latency);
const concurrency = 4;
const ideal = Math.ceil(timed.sections / concurrency) * latency;
console.log(`sections ${timed.sections}, maxConcurrency ${concurrency}, offline model latency ${latency} ms per call`);
console.log(`sections map makespan: ${timed.makespan.toFixed(0)} ms; ideal schedule ${ideal} ms; ratio ${(timed.makespan / ideal).toFixed(2)}x`);
console.log(`same run with 0 ms latency: sections map ${base.makespan.toFixed(0)} ms, whole run ${base.total.toFixed(0)} ms (engine + stages overhead)`);
console.log(`overhead per section at 0 ms latency: ${(base.makespan / timed.sections).toFixed(1)} ms`);
