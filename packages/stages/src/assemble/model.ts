import { getText, type BlobStore } from '@baton/core';
import { z } from 'zod';
import type { PlanOutput } from '../plan.js';
import { RawOutput, sectionTypeOf } from '../report/prompt.js';
import { SECTION_SCHEMAS, type SectionContent } from '../template/types.js';

/** The item state a sections map leaves behind (what assemble reads of it). */
export const SectionItemState = z.looseObject({
  check: z.looseObject({ valid: z.boolean(), outputKey: z.string(), round: z.number().optional() }).optional(),
  flagged: z.looseObject({ status: z.literal('needs-human-review'), reason: z.string() }).optional(),
});

/** A map result of the sections map. */
export const SectionResult = z.union([
  z.object({ status: z.literal('succeeded'), output: SectionItemState }),
  z.object({ status: z.literal('failed'), error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) }),
]);

/** One section of the report as rendered. */
export type ReportSection =
  | { sectionId: string; title: string; status: 'ok'; content: SectionContent; repairRounds: number }
  | { sectionId: string; title: string; status: 'failed' | 'held'; error: { code: string; message: string } };

/** Everything the renderers need: title, sections, sources, review decision. */
export interface ReportModel {
  title: string;
  subtitle: string;
  runId: string;
  review: { approved: boolean; reviewer: string | null; comment: string | null } | null;
  sections: ReportSection[];
  sources: { docId: string; name: string; title: string; paragraphs: number }[];
  rejectedSources: { code: string; message: string }[];
}

/** Builds the report model: each planned section with its validated content, or a placeholder with its error. */
export async function buildReportModel(
  blobs: BlobStore,
  plan: PlanOutput,
  results: readonly z.output<typeof SectionResult>[],
  runId: string,
  review: ReportModel['review'],
): Promise<ReportModel> {
  const sections = await Promise.all(
    plan.sections.map(async (task, i): Promise<ReportSection> => {
      const base = { sectionId: task.sectionId, title: task.title };
      const r = results[i];
      if (!r) return { ...base, status: 'failed', error: { code: 'StageFailed', message: 'no result for this section' } };
      if (r.status === 'failed') return { ...base, status: 'failed', error: { code: r.error.code, message: r.error.message } };
      if (r.output.flagged) return { ...base, status: 'held', error: { code: 'SafetyCheckFailed', message: r.output.flagged.reason } };
      const check = r.output.check;
      if (!check?.valid) return { ...base, status: 'failed', error: { code: 'ValidationFailed', message: 'section has no validated output' } };
      const raw = RawOutput.parse(JSON.parse(await getText(blobs, check.outputKey)));
      const { section } = sectionTypeOf(task);
      const content = SECTION_SCHEMAS[section.schema].parse(raw.json ?? JSON.parse(raw.text.replace(/^```(?:json)?|```$/g, '')));
      return { ...base, status: 'ok', content, repairRounds: raw.round };
    }),
  );
  return {
    title: plan.reportTitle,
    subtitle: sectionTitleOfTemplate(plan),
    runId,
    review,
    sections,
    sources: plan.sources.map((s) => ({ docId: s.docId, name: s.name, title: s.title, paragraphs: s.paragraphs })),
    rejectedSources: plan.rejectedSources,
  };
}

function sectionTitleOfTemplate(plan: PlanOutput): string {
  const first = plan.sections[0];
  return first ? sectionTypeOf(first).template.title : plan.template;
}

/** The banner text of a section that did not make it. */
export function placeholderText(s: Extract<ReportSection, { status: 'failed' | 'held' }>): string {
  return s.status === 'held'
    ? `SECTION HELD FOR HUMAN REVIEW (${s.error.code}): ${s.error.message}`
    : `SECTION NOT GENERATED (${s.error.code}): ${s.error.message}`;
}
