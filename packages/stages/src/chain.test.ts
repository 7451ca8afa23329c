import { createMemoryBlobStore, type BlobStore, type ModelClient } from '@baton/core';
import { getText, invokeStage } from '@baton/core/engine';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from './assemble/stage.js';
import { generate } from './generate.js';
import { ingest } from './ingest/stage.js';
import { createOfflineModel } from './models/offline.js';
import { notify } from './notify.js';
import { plan, type PlanOutput } from './plan.js';
import { repair } from './repair.js';
import { validate } from './validate.js';

const SOURCES = join(import.meta.dirname, '../../../examples/report-generation/sources');

async function call(stage: Parameters<typeof invokeStage>[0], input: unknown, blobs: BlobStore, model?: ModelClient, stepPath = 'x') {
  const r = await invokeStage(stage, input, { blobs, runId: 'run-1', stepPath, attempt: 1, ...(model ? { model } : {}) });
  if (!r.ok) throw Object.assign(new Error(r.error.message), { error: r.error });
  return r.output as Record<string, unknown>;
}

async function planned(blobs: BlobStore): Promise<PlanOutput> {
  const ingested = [];
  for (const name of readdirSync(SOURCES).sort()) {
    await blobs.put(`src/${name}`, new Uint8Array(readFileSync(join(SOURCES, name))));
    ingested.push({ status: 'succeeded', output: await call(ingest, { source: { key: `src/${name}`, name } }, blobs) });
  }
  return (await call(plan, { reportTitle: 'T', ingested }, blobs)) as unknown as PlanOutput;
}

describe('stages chained through invokeStage', () => {
  it('plans one task per template section with excerpts from the required sources and deterministic keys', async () => {
    const p = await planned(createMemoryBlobStore());
    expect(p.sections.map((s) => s.sectionId)).toEqual([
      'synopsis',
      'introduction',
      'objectives',
      'study-design',
      'study-population',
      'efficacy-results',
      'safety-results',
      'discussion',
      'conclusions',
    ]);
    const safety = p.sections.find((s) => s.sectionId === 'safety-results')!;
    expect(safety.contextRefs.some((r) => r.startsWith('safety-summary#'))).toBe(true);
    expect(safety.outputKey).toBe('sections/run-1/safety-results/generated.json');
    expect(p.sections.every((s) => s.missingSources.length === 0)).toBe(true);
  });

  it('re-running generate and validate writes nothing new (idempotent, deterministic keys)', async () => {
    const blobs = createMemoryBlobStore();
    const p = await planned(blobs);
    const model = createOfflineModel();
    const ctx = { task: p.sections[0]!, reportTitle: p.reportTitle, sources: p.sources, sectionIndex: p.sectionIndex };
    const g1 = await call(generate, ctx, blobs, model);
    const writes = blobs.writes;
    const g2 = await call(generate, ctx, blobs, model);
    expect(g2).toEqual(g1);
    expect(blobs.writes).toBe(writes);
    expect(await call(validate, { ...ctx, outputKey: g1.outputKey }, blobs)).toEqual({ valid: true, sectionId: 'synopsis', outputKey: g1.outputKey, round: 0 });
  });

  it('repair sends a different prompt made of the original plus the errors, and re-validates', async () => {
    const blobs = createMemoryBlobStore();
    const p = await planned(blobs);
    const model = createOfflineModel({ faults: { invalidSections: ['synopsis'] } });
    const ctx = { task: p.sections[0]!, reportTitle: p.reportTitle, sources: p.sources, sectionIndex: p.sectionIndex };
    const g = await call(generate, ctx, blobs, model);
    const failure = await call(validate, { ...ctx, outputKey: g.outputKey }, blobs).catch((e: { error: { code: string; details: unknown } }) => e.error);
    expect(failure).toMatchObject({ code: 'ValidationFailed', details: { errors: [expect.stringContaining('unknown-source#p999')] } });
    const fixed = await call(repair, { ...ctx, check: failure }, blobs, model);
    expect(fixed).toMatchObject({ valid: true, round: 1, outputKey: 'sections/run-1/synopsis/repair-1.json' });
    expect(fixed.promptSha256).not.toBe(g.promptSha256);
    const [first, second] = model.calls;
    expect(second!.messages.slice(0, first!.messages.length)).toEqual(first!.messages);
    expect(second!.messages.at(-1)!.content).toContain('unknown-source#p999');
  });

  it('assembles placeholders for failed and held sections and escapes HTML', async () => {
    const blobs = createMemoryBlobStore();
    const p = await planned(blobs);
    p.reportTitle = 'Report <A & B>';
    const model = createOfflineModel();
    const ctx = { task: p.sections[0]!, reportTitle: p.reportTitle, sources: p.sources, sectionIndex: p.sectionIndex };
    const g = await call(generate, ctx, blobs, model);
    const results = p.sections.map((_, i) =>
      i === 0
        ? { status: 'succeeded', output: { check: { valid: true, outputKey: g.outputKey, round: 0 } } }
        : i === 1
          ? { status: 'succeeded', output: { flagged: { status: 'needs-human-review', reason: 'off-script' } } }
          : { status: 'failed', error: { code: 'ValidationFailed', message: `section ${i} <bad>` } },
    );
    const out = await call(assemble, { plan: p, sections: results, review: { approved: true, reviewer: 'qa', comment: null } }, blobs);
    expect(out.sections).toEqual({ total: 9, ok: 1, failed: 7, held: 1, repaired: 0 });
    const html = await getText(blobs, out.htmlKey as string);
    expect(html).toContain('<title>Report &lt;A &amp; B&gt;</title>');
    expect(html).toContain('SECTION HELD FOR HUMAN REVIEW (SafetyCheckFailed): off-script');
    expect(html).toContain('SECTION NOT GENERATED (ValidationFailed): section 2 &lt;bad&gt;');
    expect((await blobs.get(out.docxKey as string)).slice(0, 2)).toEqual(new Uint8Array([0x50, 0x4b]));
    const n = await call(notify, { event: { runId: 'run-1', title: 't', outputs: { docx: out.docxKey }, sections: out.sections } }, blobs);
    expect(n).toEqual({ delivered: 'blob:notifications/run-1.json' });
    expect(JSON.parse(await getText(blobs, 'notifications/run-1.json'))).toMatchObject({ type: 'report.completed', runId: 'run-1' });
  });

  it('fails planning with InvalidInput when no source is usable', async () => {
    const e = await call(
      plan,
      { reportTitle: 'T', ingested: [{ status: 'failed', error: { code: 'InvalidInput', message: 'source "a.txt": empty file (0 bytes)' } }] },
      createMemoryBlobStore(),
    ).catch((x: { error: unknown }) => x.error);
    expect(e).toMatchObject({ code: 'InvalidInput', message: 'no usable source documents: source "a.txt": empty file (0 bytes)' });
  });
});
