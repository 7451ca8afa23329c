import { type BlobStore } from '@baton/core';
import { getText } from '@baton/core/engine';
import { z } from 'zod';
import type { PlanOutput } from '../plan.js';
import { RawOutput, sectionTypeOf } from '../report/prompt.js';
import type { DecidedSection, ReviewState } from '../review/state.js';
import { SECTION_SCHEMAS, type SectionContent } from '../template/types.js';

/** The item state a sections map leaves behind (what assemble reads of it). */
export const SectionItemState = z.looseObject({
  // A section held in a repair round still carries the validator's earlier failure here: read as no valid output.
  check: z.looseObject({ valid: z.boolean(), outputKey: z.string(), round: z.number().optional() }).optional().catch(undefined),
  flagged: z.looseObject({ status: z.literal('needs-human-review'), reason: z.string() }).optional(),
});

/** A map result of the sections map. */
export const SectionResult = z.union([
  z.object({ status: z.literal('succeeded'), output: SectionItemState }),
  z.object({ status: z.literal('failed'), error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) }),
]);

/** Who accepted a placeholder as missing, and why. */
export interface AcceptedMissing {
  reviewer: string | null;
  note: string | null;
}

/** One section of the report as rendered. */
export type ReportSection =
  | {
      sectionId: string;
      title: string;
      status: 'ok';
      content: SectionContent;
      repairRounds: number;
      /** The review round that sent it back, when it was written again. */ revisedInRound?: number;
    }
  | { sectionId: string; title: string; status: 'failed' | 'held'; error: { code: string; message: string }; accepted?: AcceptedMissing };

/** A placeholder section of the report. */
export type PlaceholderSection = Extract<ReportSection, { status: 'failed' | 'held' }>;

/** The sign-off page: who approved the report, when, and each section's verdict. */
export interface SignOff {
  /** The reviewer of the last round (null: the gate was unassigned and the decision named nobody). */
  approver: string | null;
  /** When the last round was decided (ISO 8601). */
  at: string;
  comment: string | null;
  rounds: number;
  sections: {
    sectionId: string;
    title: string;
    verdict: DecidedSection['verdict'];
    reviewer: string | null;
    note: string | null;
    round: number;
    at: string;
    sentBack: number;
  }[];
}

/** Everything the renderers need: title, sections, sources, review decision and sign-off. */
export interface ReportModel {
  title: string;
  subtitle: string;
  runId: string;
  review: { approved: boolean; reviewer: string | null; comment: string | null } | null;
  /** Present when the report went through the per-section review loop. */
  signOff: SignOff | null;
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
  reviewState: ReviewState | null = null,
): Promise<ReportModel> {
  const sections = await Promise.all(
    plan.sections.map(async (task, i): Promise<ReportSection> => {
      const base = { sectionId: task.sectionId, title: task.title };
      const outcome = sectionOutcome(results[i]);
      const decided = reviewState?.decided[task.sectionId];
      const accepted = decided?.verdict === 'accept-missing' ? { reviewer: decided.reviewer, note: decided.note } : undefined;
      if (outcome.status !== 'ok') return { ...base, status: outcome.status, error: outcome.error, ...(accepted ? { accepted } : {}) };
      if (accepted)
        return { ...base, status: 'failed', error: { code: 'AcceptedAsMissing', message: 'the reviewer left this section out of the report' }, accepted };
      const raw = RawOutput.parse(JSON.parse(await getText(blobs, outcome.outputKey)));
      const { section } = sectionTypeOf(task);
      const content = SECTION_SCHEMAS[section.schema].parse(raw.json ?? JSON.parse(raw.text.replace(/^```(?:json)?|```$/g, '')));
      const revised = outcome.revisedInRound === undefined ? {} : { revisedInRound: outcome.revisedInRound };
      return { ...base, status: 'ok', content, repairRounds: raw.round, ...revised };
    }),
  );
  return {
    title: plan.reportTitle,
    subtitle: sectionTitleOfTemplate(plan),
    runId,
    review,
    signOff: reviewState ? signOffOf(reviewState, plan) : null,
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
export function placeholderText(s: PlaceholderSection): string {
  if (s.error.code === 'AcceptedAsMissing') return 'SECTION LEFT OUT BY THE REVIEWER';
  return s.status === 'held'
    ? `SECTION HELD FOR HUMAN REVIEW (${s.error.code}): ${s.error.message}`
    : `SECTION NOT GENERATED (${s.error.code}): ${s.error.message}`;
}

/** The marker of a placeholder a reviewer accepted: "Accepted as missing by <reviewer>: <note>"; `null` when not accepted. */
export function acceptedText(s: PlaceholderSection): string | null {
  if (!s.accepted) return null;
  const note = s.accepted.note?.replace(/\s+/g, ' ').trim();
  return `Accepted as missing by ${s.accepted.reviewer ?? 'the reviewer (unassigned gate)'}${note ? `: ${note}` : ''}`;
}

/** A section's state after its map item (and any rewrite after review): valid output, or failed / held with the findings on it. */
export type SectionOutcome =
  { status: 'ok'; outputKey: string; revisedInRound?: number } | { status: 'failed' | 'held'; error: { code: string; message: string }; findings: string[] };

/** Reads a sections map result: where the valid output is, or why the section has none (with the validator's or safety check's findings). */
export function sectionOutcome(r: z.output<typeof SectionResult> | undefined): SectionOutcome {
  if (!r) return { status: 'failed', error: { code: 'StageFailed', message: 'no result for this section' }, findings: [] };
  if (r.status === 'failed') {
    const error = { code: r.error.code, message: r.error.message };
    return { status: 'failed', error, findings: findingsOf(r.error.details) ?? [`${error.code}: ${error.message}`] };
  }
  if (r.output.flagged) {
    const error = { code: 'SafetyCheckFailed', message: r.output.flagged.reason };
    const safety = (r.output as { safety?: { details?: unknown } }).safety;
    return { status: 'held', error, findings: findingsOf(safety?.details) ?? [`${error.code}: ${error.message}`] };
  }
  const check = r.output.check;
  if (!check?.valid) return { status: 'failed', error: { code: 'ValidationFailed', message: 'section has no validated output' }, findings: [] };
  const revised = (r.output as { revision?: { round?: unknown } }).revision?.round;
  return typeof revised === 'number' ? { status: 'ok', outputKey: check.outputKey, revisedInRound: revised } : { status: 'ok', outputKey: check.outputKey };
}

function findingsOf(details: unknown): string[] | undefined {
  if (details === null || typeof details !== 'object') return undefined;
  const d = details as { errors?: unknown; matches?: unknown; findings?: unknown };
  for (const [label, v] of [
    ['', d.errors],
    ['safety: ', d.matches],
    ['safety: ', d.findings],
  ] as const) {
    if (Array.isArray(v) && v.length) return v.map((x) => `${label}${typeof x === 'string' ? x : JSON.stringify(x)}`);
  }
  return undefined;
}

function signOffOf(state: ReviewState, plan: PlanOutput): SignOff {
  const last = state.rounds[state.rounds.length - 1];
  const sentBack = (id: string): number => state.rounds.filter((r) => r.sections[id]?.verdict === 'send-back').length;
  return {
    approver: last?.reviewer ?? null,
    at: last?.at ?? '',
    comment: last?.comment ?? null,
    rounds: state.rounds.length,
    sections: plan.sections.flatMap((t) => {
      const d = state.decided[t.sectionId];
      return d ? [{ sectionId: t.sectionId, title: t.title, ...d, sentBack: sentBack(t.sectionId) }] : [];
    }),
  };
}
