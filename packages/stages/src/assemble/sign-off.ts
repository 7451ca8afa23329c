import type { ReportModel, SignOff } from './model.js';

/** Heading of the sign-off page in every format. */
export const SIGN_OFF_HEADING = 'Sign-off';

/** Column headings of the sign-off table: section, verdict, by, round, when, note. */
export const SIGN_OFF_COLUMNS = ['Section', 'Verdict', 'By', 'Round', 'When', 'Note'] as const;

/** The lines above the sign-off table: who approved, when, in how many rounds, and their comment. */
export function signOffSummary(s: SignOff): string[] {
  const lines = [`Approved by: ${s.approver ?? 'the reviewer (unassigned gate)'}`, `Approved at: ${s.at}`, `Review rounds: ${s.rounds}`];
  if (s.comment) lines.push(`Comment: ${s.comment}`);
  return lines;
}

/** One row per section of the sign-off table, in report order, as text cells ({@link SIGN_OFF_COLUMNS}). */
export function signOffRows(r: ReportModel): string[][] {
  if (!r.signOff) return [];
  return r.signOff.sections.map((d) => {
    const number = r.sections.findIndex((s) => s.sectionId === d.sectionId) + 1;
    const verdict = d.verdict === 'approve' ? 'approved' : 'accepted as missing';
    const sentBack = d.sentBack ? ` (after ${d.sentBack} send-back${d.sentBack > 1 ? 's' : ''})` : '';
    return [
      `${number}. ${d.title}`,
      verdict + sentBack,
      d.reviewer ?? 'unassigned',
      String(d.round),
      shortTime(d.at),
      d.note?.replace(/\s+/g, ' ').trim() ?? '',
    ];
  });
}

/** The line under a section written again after review. */
export function revisedText(round: number): string {
  return `Revised after review round ${round}.`;
}

/** `2026-12-04T10:00:00.000Z` as `2026-12-04 10:00 UTC` (a table cell); anything else as is. */
export function shortTime(iso: string): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d)(?::\d\d(?:\.\d+)?)?Z$/.exec(iso);
  return m ? `${m[1]} ${m[2]} UTC` : iso;
}
