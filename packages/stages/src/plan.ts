import { defineStage } from '@baton/core';
import { z } from 'zod';
import { IngestedDoc, SectionIndexEntry, SectionTask, type NormalisedDocument } from './documents.js';
import { loadDocuments, noUsableSources, partition, type MapResult } from './report/sources.js';
import { getReportTemplate } from './template/registry.js';
import type { SectionType } from './template/types.js';

const IngestResult = z.union([
  z.object({ status: z.literal('succeeded'), output: IngestedDoc }),
  z.object({ status: z.literal('failed'), error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) }),
]);

/** Input of {@link plan}: the template id, the report title and ingest's map results. */
export const PlanInput = z.object({
  template: z.string().default('clinical-study-report'),
  reportTitle: z.string().min(1),
  ingested: z.array(IngestResult),
});

/** The plan: section tasks, usable sources, and the sources ingest rejected. */
export const PlanOutput = z.object({
  reportTitle: z.string(),
  template: z.string(),
  templateVersion: z.number().int(),
  sections: z.array(SectionTask),
  /** Ids and titles of every section, for cross-references. */
  sectionIndex: z.array(SectionIndexEntry),
  sources: z.array(IngestedDoc),
  rejectedSources: z.array(z.object({ code: z.string(), message: z.string() })),
});
/** The plan. */
export type PlanOutput = z.output<typeof PlanOutput>;

/**
 * Turns a report template (data) and the ingested sources into section tasks: for each section
 * type, the source paragraphs that best match its keywords (required sources first) and a
 * deterministic output key under the run. Fails with `InvalidInput` when no source is usable.
 */
export const plan = defineStage({
  name: 'plan',
  version: 1,
  description: 'template + sources -> section tasks',
  input: PlanInput,
  output: PlanOutput,
  throws: ['InvalidInput'],
  async run(input, ctx) {
    const template = getReportTemplate(input.template);
    const { ok: sources, failed } = partition(input.ingested as MapResult<IngestedDoc>[]);
    if (sources.length === 0) throw noUsableSources(failed);
    const docs = await loadDocuments(ctx.blobs, sources);
    const sections = template.sections.map((s) => {
      const missing = s.requiredSources.filter((r) => !docs.some((d) => d.docId.startsWith(r)));
      return {
        sectionId: s.type,
        type: s.type,
        title: s.title,
        template: template.id,
        contextRefs: chooseExcerpts(s, docs),
        outputKey: `sections/${ctx.runId}/${s.type}/generated.json`,
        missingSources: missing,
      };
    });
    const sectionIndex = sections.map((s) => ({ sectionId: s.sectionId, title: s.title }));
    return {
      reportTitle: input.reportTitle,
      template: template.id,
      templateVersion: template.version,
      sections,
      sectionIndex,
      sources,
      rejectedSources: failed,
    };
  },
});

/** Picks the paragraphs that best match a section's keywords, required sources first, in document order. */
export function chooseExcerpts(section: SectionType, docs: readonly NormalisedDocument[]): string[] {
  const keywords = section.keywords.map((k) => k.toLowerCase());
  const scored = docs.flatMap((d, di) =>
    d.paragraphs.map((p, pi) => {
      const text = p.text.toLowerCase();
      const hits = keywords.filter((k) => text.includes(k)).length;
      const required = section.requiredSources.some((r) => d.docId.startsWith(r)) ? 1 : 0;
      return { id: p.id, order: di * 100_000 + pi, score: hits === 0 ? 0 : hits * 2 + required };
    }),
  );
  let picked = scored
    .filter((s) => s.score > 0)
    .sort((a, b) => b.score - a.score || a.order - b.order)
    .slice(0, section.excerpts);
  if (picked.length === 0) picked = scored.slice(0, section.excerpts);
  return picked.sort((a, b) => a.order - b.order).map((s) => s.id);
}
