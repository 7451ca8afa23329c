import { defineStage } from '@baton/core';
import { z } from 'zod';
import { PlanOutput } from '../plan.js';
import { renderDocx } from './docx.js';
import { renderHtml } from './html.js';
import { ReviewState } from '../review/state.js';
import { renderMarkdown } from './markdown.js';
import { buildReportModel, SectionResult } from './model.js';
import { renderPdf } from './pdf.js';

/** Input of {@link assemble}: the plan, the sections map results, the (last) review decision and the per-section review. */
export const AssembleInput = z.object({
  plan: PlanOutput,
  sections: z.array(SectionResult),
  review: z.object({ approved: z.boolean(), reviewer: z.string().nullable(), comment: z.string().nullable() }).nullable().default(null),
  /** The review loop's state: per-section verdicts (accepted placeholders are marked) and the sign-off page. */
  reviewState: ReviewState.nullable().default(null),
});

/** Where the rendered report is, and how many sections made it. */
export const AssembleOutput = z.object({
  docxKey: z.string(),
  markdownKey: z.string(),
  htmlKey: z.string(),
  pdfKey: z.string(),
  sections: z.object({ total: z.number(), ok: z.number(), failed: z.number(), held: z.number(), repaired: z.number() }),
});
/** Where the rendered report is. */
export type AssembleOutput = z.output<typeof AssembleOutput>;

/**
 * Renders the approved sections as DOCX, PDF, Markdown and HTML under `reports/<runId>/`. A
 * section that failed (or was held for review) appears as a clearly marked placeholder with its
 * error, and, when a reviewer accepted it as missing, who did and their note, so a partial report
 * is still reviewable. After a per-section review the document ends with a sign-off page.
 */
export const assemble = defineStage({
  name: 'assemble',
  version: 1,
  description: 'sections -> DOCX, PDF, Markdown, HTML',
  input: AssembleInput,
  output: AssembleOutput,
  timeoutMs: 120_000,
  async run(input, ctx) {
    const model = await buildReportModel(ctx.blobs, input.plan, input.sections, ctx.runId, input.review, input.reviewState);
    const base = `reports/${ctx.runId}/report`;
    await ctx.blobs.put(`${base}.docx`, await renderDocx(model));
    await ctx.blobs.put(`${base}.md`, renderMarkdown(model));
    await ctx.blobs.put(`${base}.html`, renderHtml(model));
    await ctx.blobs.put(`${base}.pdf`, await renderPdf(model));
    const count = (s: string): number => model.sections.filter((x) => x.status === s).length;
    return {
      docxKey: `${base}.docx`,
      markdownKey: `${base}.md`,
      htmlKey: `${base}.html`,
      pdfKey: `${base}.pdf`,
      sections: {
        total: model.sections.length,
        ok: count('ok'),
        failed: count('failed'),
        held: count('held'),
        repaired: model.sections.filter((x) => x.status === 'ok' && x.repairRounds > 0).length,
      },
    };
  },
});
