import { createMemoryBlobStore, type AnyPipeline, type ModelClient } from '@baton/core';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileToAsl } from '../compile/compile.js';
import { estimateRunCost } from '../compile/limits.js';
import { createStepFunctionsLocalEngine } from './engine.js';

// the reference example and the offline model are loaded at run time: this package depends on neither
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const exampleDist = join(root, 'examples/report-generation/dist/index.js');
const sourcesDir = join(root, 'examples/report-generation/sources');

describe('the reference report on stepfunctions-local (offline model)', { timeout: 180_000 }, () => {
  it('runs the compiled machine end to end: sections map, review gate approved, report assembled', async () => {
    expect(existsSync(exampleDist), 'build examples/report-generation first').toBe(true);
    const { reportPipeline } = (await import(pathToFileURL(exampleDist).href)) as { reportPipeline: AnyPipeline };
    const { createOfflineModel } = (await import('@baton/stages' as string)) as { createOfflineModel: (o: object) => ModelClient };
    const blobs = createMemoryBlobStore();
    const refs = [];
    for (const name of readdirSync(sourcesDir).sort()) {
      await blobs.put(`sources/${name}`, new Uint8Array(readFileSync(join(sourcesDir, name))));
      refs.push({ key: `sources/${name}`, name });
    }
    const engine = createStepFunctionsLocalEngine({
      pipelines: [reportPipeline],
      blobs,
      model: createOfflineModel({ faults: {} }),
      notifier: (n) => {
        setTimeout(() => void engine.approve(n.runId, n.gate, { token: n.token, reviewer: 'qa' }), 0);
      },
    });
    const { runId } = await engine.start(reportPipeline, { sources: refs, notify: { kind: 'file' } });
    const outcome = await engine.result(runId, { timeoutMs: 150_000 });
    if (outcome.status === 'failed') throw new Error(`${outcome.error.code}: ${outcome.error.message}`);
    const out = outcome.output as { sections: { status: string }[]; review: { approved: boolean }; report: Record<string, unknown> };
    expect(out.sections.length).toBeGreaterThan(0);
    expect(out.sections.every((s) => s.status === 'succeeded')).toBe(true);
    expect(out.review).toMatchObject({ approved: true, reviewer: 'qa' });
    expect(out.report).toHaveProperty('docxKey');
    const attempts = (await engine.status(runId)).attempts.map((a) => a.stepPath);
    expect(attempts).toContain('sections[0]/generate');
    expect(attempts).toContain('assemble');
    // the run cost at least the compiler's happy-path figure for this many sources and sections (repairs add more)
    const happy = estimateRunCost(compileToAsl(reportPipeline).definition, { ingest: refs.length, sections: out.sections.length }).transitions;
    expect(engine.transitions(runId)).toBeGreaterThanOrEqual(happy);
    expect(engine.transitions(runId)).toBeLessThan(happy * 2);
    await engine.close();
  });
});
