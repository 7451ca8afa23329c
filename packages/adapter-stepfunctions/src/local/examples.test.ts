import { createLocalEngine, createMemoryBlobStore, type AnyPipeline, type Engine, type ModelClient } from '@baton/core';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

describe('the examples on stepfunctions-local', { timeout: 180_000 }, () => {
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

  it('a repaired section and sections held for review (first round, repair round) end as on the local engine (repair decodes the caught error in its input; flag gets the state)', async () => {
    expect(existsSync(exampleDist), 'build examples/report-generation first').toBe(true);
    const { reportPipeline } = (await import(pathToFileURL(exampleDist).href)) as { reportPipeline: AnyPipeline };
    const { createOfflineModel } = (await import('@baton/stages' as string)) as { createOfflineModel: (o: object) => ModelClient };
    const run = async (
      make: (blobs: ReturnType<typeof createMemoryBlobStore>, approve: (n: { runId: string; gate: string; token: string }) => void) => Engine,
    ) => {
      const blobs = createMemoryBlobStore();
      const refs = [];
      for (const name of readdirSync(sourcesDir).sort()) {
        await blobs.put(`sources/${name}`, new Uint8Array(readFileSync(join(sourcesDir, name))));
        refs.push({ key: `sources/${name}`, name });
      }
      const engine: Engine = make(blobs, (n) => setTimeout(() => void engine.approve(n.runId, n.gate, { token: n.token, reviewer: 'qa' }), 0));
      const { runId } = await engine.start(reportPipeline, { sources: refs, notify: { kind: 'file' } });
      const outcome = await engine.result(runId, { timeoutMs: 150_000 });
      await engine.close();
      if (outcome.status === 'failed') throw new Error(`${outcome.error.code}: ${outcome.error.message}`);
      // keys derive from the run id: compare the sections with it masked
      return JSON.parse(JSON.stringify((outcome.output as { sections: unknown }).sections).replaceAll(runId, 'RUN')) as {
        status: string;
        output: Record<string, unknown>;
      }[];
    };
    // discussion: invalid first, then off-script in its repair round -> held, not failed (issue 15)
    const faults = { invalidSections: ['synopsis', 'discussion'], offScriptSections: ['objectives'], offScriptRepairSections: ['discussion'] };
    const sfn = await run((blobs, approve) =>
      createStepFunctionsLocalEngine({ pipelines: [reportPipeline], blobs, model: createOfflineModel({ faults }), notifier: approve }),
    );
    const local = await run((blobs, approve) =>
      createLocalEngine({
        pipelines: [reportPipeline],
        blobs,
        model: createOfflineModel({ faults }),
        notifier: approve,
        dir: mkdtempSync(join(tmpdir(), 'baton-sfn-report-')),
      }),
    );
    const synopsis = sfn.find((s) => (s.output.task as { sectionId: string }).sectionId === 'synopsis')!;
    expect(synopsis).toMatchObject({ status: 'succeeded', output: { check: { valid: true, round: 1 } } });
    const objectives = sfn.find((s) => (s.output.task as { sectionId: string }).sectionId === 'objectives')!;
    expect(objectives).toMatchObject({ status: 'succeeded', output: { safety: { code: 'SafetyCheckFailed' }, flagged: { status: 'needs-human-review' } } });
    const discussion = sfn.find((s) => (s.output.task as { sectionId: string }).sectionId === 'discussion')!;
    expect(discussion).toMatchObject({
      status: 'succeeded',
      output: { safety: { code: 'SafetyCheckFailed' }, flagged: { status: 'needs-human-review', round: 1 } },
    });
    expect(sfn).toEqual(local);
  });

  it('support triage: choice routes an outage to the parallel branch and its on-call gate; a question gets a reply', async () => {
    const triageDist = join(root, 'examples/support-triage/dist/index.js');
    expect(existsSync(triageDist), 'build examples/support-triage first').toBe(true);
    const { triagePipeline } = (await import(pathToFileURL(triageDist).href)) as { triagePipeline: AnyPipeline };
    const engine = createStepFunctionsLocalEngine({
      pipelines: [triagePipeline],
      notifier: (n) => {
        setTimeout(() => void engine.approve(n.runId, n.gate, { token: n.token, reviewer: 'oncall' }), 0);
      },
    });
    const urgent = await engine.start(triagePipeline, { ticket: { id: 't-1', subject: 'Site down', body: 'We get 503 everywhere', customerTier: 'pro' } });
    const u = await engine.result(urgent.runId, { timeoutMs: 60_000 });
    if (u.status === 'failed') throw new Error(`${u.error.code}: ${u.error.message}`);
    expect(u.output).toMatchObject({ classification: { category: 'outage', urgency: 'high' }, ack: { approved: true, reviewer: 'oncall' } });
    expect((u.output as { urgent: unknown[] }).urgent).toHaveLength(2);
    const normal = await engine.start(triagePipeline, { ticket: { id: 't-2', subject: 'How do I export?', body: 'Where is the export button' } });
    const n = await engine.result(normal.runId, { timeoutMs: 60_000 });
    expect(n).toMatchObject({ status: 'succeeded', output: { classification: { urgency: 'normal' } } });
    expect(n.status === 'succeeded' && (n.output as Record<string, unknown>).reply).toBeTruthy();
    await engine.close();
  });
});
