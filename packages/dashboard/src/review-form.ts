/** A reviewer's verdict on one section (the shape of `@baton/core`'s `SectionVerdict`). */
export interface SectionVerdictInput {
  verdict: 'approve' | 'send-back' | 'accept-missing';
  note?: string;
}

/** What the review form sent: per-section verdicts and notes, as typed (kept to show again when refused). */
export interface ReviewFormInput {
  verdicts: Record<string, string>;
  notes: Record<string, string>;
  reviewer?: string;
  comment?: string;
}

/** Longest note or comment a decision may carry; the same bound as `@baton/core`'s `MAX_REVIEW_NOTE_CHARS`. */
export const MAX_NOTE_CHARS = 4000;

const KINDS = new Set(['approve', 'send-back', 'accept-missing']);

/** Reads `verdict:<section>` and `note:<section>` fields of a posted review form. */
export function readReviewForm(form: Record<string, unknown>): ReviewFormInput {
  const input: ReviewFormInput = { verdicts: {}, notes: {} };
  for (const [name, value] of Object.entries(form)) {
    if (typeof value !== 'string') continue;
    if (name.startsWith('verdict:')) input.verdicts[name.slice(8)] = value;
    else if (name.startsWith('note:')) input.notes[name.slice(5)] = value;
  }
  if (typeof form.reviewer === 'string' && form.reviewer.trim()) input.reviewer = form.reviewer.trim();
  if (typeof form.comment === 'string' && form.comment.trim()) input.comment = form.comment.trim();
  return input;
}

/**
 * The section verdicts of a form, checked against the sections the gate asks about, or the
 * problems that keep it from being sent: a section the gate does not have, a verdict kind that does
 * not exist, a missing verdict, a send-back without a note, a note or comment that is too long.
 * Checked before the engine is called, so a refused form consumes nothing and is shown again as typed.
 */
export function sectionVerdictsOf(input: ReviewFormInput, sections: readonly string[]): { sections: Record<string, SectionVerdictInput>; problems: string[] } {
  const out: Record<string, SectionVerdictInput> = {};
  const problems: string[] = [];
  const known = new Set(sections);
  for (const id of Object.keys(input.verdicts)) if (!known.has(id)) problems.push(`This review has no section "${id}".`);
  for (const id of sections) {
    const verdict = input.verdicts[id];
    const note = input.notes[id]?.trim() ?? '';
    if (verdict === undefined || verdict === '') {
      problems.push(`Choose a verdict for section "${id}".`);
      continue;
    }
    if (!KINDS.has(verdict)) {
      problems.push(`"${verdict}" is not a verdict (approve, send back or accept as missing) for section "${id}".`);
      continue;
    }
    if (note.length > MAX_NOTE_CHARS) problems.push(`The note on section "${id}" has ${note.length} characters; the limit is ${MAX_NOTE_CHARS}.`);
    if (verdict === 'send-back' && !note) problems.push(`Say what to change in section "${id}" when you send it back.`);
    out[id] = { verdict: verdict as SectionVerdictInput['verdict'], ...(note ? { note } : {}) };
  }
  if ((input.comment?.length ?? 0) > MAX_NOTE_CHARS) problems.push(`The comment has ${input.comment!.length} characters; the limit is ${MAX_NOTE_CHARS}.`);
  return { sections: out, problems };
}
