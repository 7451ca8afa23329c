import { createLocalEngine, createMemoryBlobStore, type AnyPipeline, type Engine, type ModelClient } from '@baton/core';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createStepFunctionsLocalEngine } from './engine.js';

// the reference example and the offline model are loaded at run time: this package depends on neither
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const exampleDist = join(root, 'examples/report-generation/dist/index.js');
const sourcesDir = join(root, 'examples/report-generation/sources');

type Section = { status: string; output: { task: { sectionId: string }; flagged?: { status: string; round?: number; findings: { class: string }[] } } };

describe('off-script output in a repair round, compiled to ASL (stepfunctions-local)', { timeout: 180_000 }, () => {
  it('holds the section for a human (not failed), as the local engine does', async () => {
    expect(existsSync(exampleDist), 'build examples/report-generation first').toBe(true);
    const { reportPipeline } = (await import(pathToFileURL(exampleDist).href)) as { reportPipeline: AnyPipeline };
    const { createOfflineModel } = (await import('@baton/stages' as string)) as { createOfflineModel: (o: object) => ModelClient };
    const faults = { invalidSections: ['objectives'], offScriptRepairSections: ['objectives'] };
    const run = async (make: (blobs: ReturnType<typeof createMemoryBlobStore>, approve: (n: { runId: string; gate: string; token: string }) => void) => Engine) => {
      const blobs = createMemoryBlobStore();
      const refs = [];
      for (const name of readdirSync(sourcesDir).sort()) {
        await blobs.put(`sources/${name}`, new Uint8Array(readFileSync(join(sourcesDir, name))));
        refs.push({ key: `sources/${name}`, name });
      }
      const engine: Engine = make(blobs, (n) => setTimeout(() => void engine.approve(n.runId, n.gate, { token: n.token, reviewer: 'qa' }), 0));
      const { runId } = await engine.start(reportPipeline, { sources: refs, notify: { kind: 'file' } });
      const outcome = await engine.result(runId, { timeoutMs: 150_000 });
      const attempts = (await engine.status(runId)).attempts.map((a) => [a.stepPath, a.status, a.error?.code ?? null]);
      await engine.close();
      if (outcome.status === 'failed') throw new Error(`${outcome.error.code}: ${outcome.error.message}`);
      return { sections: JSON.parse(JSON.stringify((outcome.output as { sections: unknown }).sections).replaceAll(runId, 'RUN')) as Section[], attempts };
    };
    const sfn = await run((blobs, approve) => createStepFunctionsLocalEngine({ pipelines: [reportPipeline], blobs, model: createOfflineModel({ faults }), notifier: approve }));
    const local = await run((blobs, approve) => createLocalEngine({ pipelines: [reportPipeline], blobs, model: createOfflineModel({ faults }), notifier: approve, dir: mkdtempSync(join(tmpdir(), 'baton-sfn-safety-')) }));
    const i = sfn.sections.findIndex((s) => s.output.task.sectionId === 'objectives');
    expect(sfn.sections[i]).toMatchObject({ status: 'succeeded', output: { flagged: { status: 'needs-human-review', round: 1 } } });
    expect(sfn.sections[i]!.output.flagged!.findings.map((f) => f.class)).toContain('model-self-reference');
    expect(sfn.attempts).toContainEqual([`sections[${i}]/repair-loop@0/repair`, 'failed', 'SafetyCheckFailed']);
    expect(sfn.attempts.filter((a) => a[0] === `sections[${i}]/repair-loop@1/repair`)).toEqual([]);
    expect(sfn.sections).toEqual(local.sections);
  });
});
