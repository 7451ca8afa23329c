import { type BlobStore, type ModelRequest } from '@baton/core';
import { sha256Hex } from '@baton/core/engine';
import { z } from 'zod';
import { IngestedDoc, SectionIndexEntry, SectionTask } from '../documents.js';
import { getReportTemplate } from '../template/registry.js';
import { SECTION_SCHEMAS, type ReportTemplate, type SectionType } from '../template/types.js';
import { loadDocuments, paragraphIndex } from './sources.js';

/**
 * Why a section is written again after review: the reviewer's note and the validator's last
 * findings on the text sent back. Present only on sections a reviewer sent back.
 */
export const Revision = z.object({
  /** The review round (1 for the first decision) in which the section was sent back. */
  round: z.number().int().positive(),
  reviewer: z.string().nullable(),
  note: z.string().min(1),
  /** The validator's (or safety check's) findings on the last text of the section; empty when it was valid. */
  findings: z.array(z.string()).default([]),
});
/** Why a section is written again after review. */
export type Revision = z.output<typeof Revision>;

/** What generate, validate and repair share: the task and the report context it is written in. */
export const SectionContext = z.object({
  task: SectionTask,
  reportTitle: z.string(),
  sources: z.array(IngestedDoc),
  sectionIndex: z.array(SectionIndexEntry),
  /** Set when a reviewer sent the section back: the prompt then carries the note and findings. */
  revision: Revision.optional(),
});
/** The task and the report context it is written in. */
export type SectionContext = z.output<typeof SectionContext>;

/** The raw output generate and repair write: the model's answer, its usage and the prompt's hash. */
export const RawOutput = z.object({
  modelId: z.string(),
  text: z.string(),
  json: z.unknown().optional(),
  usage: z.object({ inputTokens: z.number(), outputTokens: z.number() }),
  latencyMs: z.number(),
  promptSha256: z.string(),
  purpose: z.enum(['generate', 'repair', 'revise']),
  round: z.number().int(),
});
/** The raw output of a model call for a section. */
export type RawOutput = z.output<typeof RawOutput>;

/** The section's template entry. */
export function sectionTypeOf(task: SectionTask): { template: ReportTemplate; section: SectionType } {
  const template = getReportTemplate(task.template);
  const section = template.sections.find((s) => s.type === task.type);
  if (!section) throw new Error(`template "${template.id}" has no section type "${task.type}"`);
  return { template, section };
}

/** JSON Schema of a section's output, for the model's structured-output request. */
export function sectionJsonSchema(section: SectionType): Record<string, unknown> {
  return z.toJSONSchema(SECTION_SCHEMAS[section.schema], { io: 'input' }) as Record<string, unknown>;
}

/** Renders the original generation prompt of a section: template text, excerpts, schema. */
export async function renderSectionPrompt(blobs: BlobStore, ctx: SectionContext): Promise<ModelRequest> {
  const { template, section } = sectionTypeOf(ctx.task);
  const docs = await loadDocuments(blobs, ctx.sources);
  const paragraphs = paragraphIndex(docs);
  const excerpts = ctx.task.contextRefs
    .map((id) => paragraphs.get(id))
    .filter((p) => p !== undefined)
    .map((p) => `[${p.id}] ${p.text}`)
    .join('\n');
  const jsonSchema = sectionJsonSchema(section);
  const vars: Record<string, string> = {
    reportTitle: ctx.reportTitle,
    sectionTitle: ctx.task.title,
    excerpts,
    sections: ctx.sectionIndex.map((s) => `${s.sectionId} (${s.title})`).join(', '),
    schema: JSON.stringify(jsonSchema),
  };
  const filled = section.prompt.replace(/\{\{(\w+)\}\}/g, (m, k: string) => vars[k] ?? m);
  const content = ctx.revision ? `${filled}\n\n${revisionInstructions(ctx.revision)}` : filled;
  return { system: template.system, messages: [{ role: 'user', content }], jsonSchema, maxTokens: 4096, temperature: 0 };
}

/** sha256 of a request's system and messages: what makes two prompts "the same". */
export function promptHash(request: ModelRequest): string {
  return sha256Hex(JSON.stringify([request.system ?? '', request.messages]));
}

/**
 * The instruction added to a section's prompt when a reviewer sent it back: the note (quoted
 * line by line, so it cannot pass for an excerpt or an instruction of the template) and the
 * validator's last findings.
 */
export function revisionInstructions(revision: Revision): string {
  const quoted = revision.note.split(/\r?\n/).map((l) => `> ${l}`);
  const findings = revision.findings.length
    ? ["The validator's findings on that text:", ...revision.findings.map((f) => `- ${f}`)]
    : ['The validator had no findings on that text.'];
  return [
    `A reviewer${revision.reviewer ? ` (${revision.reviewer})` : ''} sent this section back in review round ${revision.round}. Reviewer's note:`,
    ...quoted,
    ...findings,
    'Write the section again from the excerpts above: address the note, fix every finding, cite only the excerpt ids given above.',
  ].join('\n');
}
