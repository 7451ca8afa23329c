import type { SectionView } from '../review-sections.js';
import { html, type SafeHtml } from '../html.js';
import { MAX_NOTE_CHARS } from '../review-form.js';

/** What the verdict controls of a section show: whether they are there, and what was typed before. */
export interface VerdictControls {
  verdict?: string | undefined;
  note?: string | undefined;
}

const STATE_LABEL: Record<SectionView['state'], [string, string]> = {
  ready: ['succeeded', 'Ready for review'],
  held: ['waiting', 'Held for a person'],
  failed: ['failed', 'Not in the report'],
};

/** An id usable in `id` attributes and fragments (`protocol#p3` → `protocol_p3`). */
export function anchorOf(...parts: string[]): string {
  return parts.map((p) => p.replace(/[^A-Za-z0-9_-]/g, '_')).join('-');
}

/**
 * One section of a review: its text (headings, figures table, citations linked to the excerpts
 * beside it), the source excerpts it cites, the validator's findings, the safety finding in words,
 * and, when the reviewer may decide, the verdict radios and note field. Everything is escaped.
 */
export function reviewSection(s: SectionView, n: number, controls: VerdictControls | undefined): SafeHtml {
  const [cls, label] = STATE_LABEL[s.state];
  const head = anchorOf('h', s.id);
  return html`<section class="panel review-section" id="${anchorOf('s', s.id)}" data-section="${s.id}" aria-labelledby="${head}">
<div class="text"><h2 id="${head}">${n}. ${s.title} <span class="badge ${cls}">${label}</span></h2>
${s.decided ? html`<div class="panel" role="note"><b>Decided${s.decided.round ? html` in round ${s.decided.round}` : ''}: ${s.decided.verdict === 'approve' ? 'approved' : 'accepted as missing'}</b>${s.decided.reviewer ? html` by ${s.decided.reviewer}` : ''}${s.decided.note ? html` — “${s.decided.note}”` : ''}. It is not asked again.</div>` : ''}
${s.revision ? html`<div class="panel notice" role="note"><b>Written again after the note${s.revision.reviewer ? html` of ${s.revision.reviewer}` : ''}${s.revision.round ? html` in round ${s.revision.round}` : ''}:</b> “${s.revision.note}”</div>` : ''}
${s.safety ? html`<div class="notice panel" role="note"><b>Held for safety.</b> ${s.safety}</div>` : ''}
${s.failure ? html`<div class="alert panel" role="note"><b>${s.paragraphs.length > 0 || s.plainText !== undefined ? 'This text is not in the report (a placeholder stands in its place).' : 'No text was produced.'}</b> ${s.failure}</div>` : ''}
${s.loadError ? html`<div class="alert panel" role="note">${s.loadError}</div>` : ''}
${s.paragraphs.map((p) => html`<p>${p.text}${p.citations.map((c) => html`<a class="cite" href="#${anchorOf('x', s.id, c)}" title="source ${c}">[${c}]</a>`)}</p>`)}
${
  s.figures.length > 0
    ? html`<table><caption class="muted">Figures reported in “${s.title}”</caption><thead><tr><th scope="col">Figure</th><th scope="col">Value</th><th scope="col">Source</th></tr></thead><tbody>
${s.figures.map((f) => html`<tr><td>${f.label}</td><td>${f.value} ${f.unit}</td><td><a class="cite" href="#${anchorOf('x', s.id, f.citation)}">[${f.citation}]</a></td></tr>`)}</tbody></table>`
    : ''
}
${s.plainText !== undefined ? html`<pre class="model">${s.plainText}</pre>` : ''}
${s.state !== 'failed' && s.paragraphs.length === 0 && s.plainText === undefined && !s.loadError ? html`<p class="muted">No text is stored for this section.</p>` : ''}
${provenance(s)}
<h3>Validator findings</h3>
${
  s.findings.length > 0
    ? html`<ul>${s.findings.map((f) => html`<li>${f}</li>`)}</ul>`
    : html`<p class="muted">${s.state === 'failed' ? 'The validator left no findings on record for this section.' : 'The validator found nothing to fix in this text.'}</p>`
}
</div>
<aside aria-label="Sources cited by ${s.title}"><h3>Cited sources</h3>
${
  s.excerpts.length === 0
    ? html`<p class="muted">This section cites no source paragraph.</p>`
    : s.excerpts.map(
        (
          x,
        ) => html`<div class="excerpt" id="${anchorOf('x', s.id, x.id)}"><b>${x.source}</b>${x.heading ? html` · ${x.heading}` : ''} <span class="muted">[${x.id}]</span>
<div>${x.text || html`<span class="muted">(this paragraph is not in the sources)</span>`}</div></div>`,
      )
}</aside>
${controls ? verdictFieldset(s, controls) : ''}
</section>`;
}

function provenance(s: SectionView): SafeHtml {
  const parts: string[] = [];
  if (s.modelId) parts.push(`written by ${s.modelId}`);
  if (s.round) parts.push(`repair round ${s.round}`);
  if (s.promptSha256) parts.push(`prompt ${s.promptSha256.slice(0, 12)}`);
  return parts.length ? html`<p class="muted">Text ${parts.join(', ')}.</p>` : html``;
}

function verdictFieldset(s: SectionView, c: VerdictControls): SafeHtml {
  const name = `verdict:${s.id}`;
  const options: [string, string][] = [
    ...(s.state === 'failed' ? [] : ([['approve', 'Approve']] as [string, string][])),
    ['send-back', s.state === 'ready' ? 'Send back' : 'Send back (retry)'],
    ['accept-missing', 'Accept as missing'],
  ];
  const noteId = anchorOf('note', s.id);
  return html`<fieldset class="verdict"><legend>Your verdict on “${s.title}”</legend>
${options.map(([value, text]) => {
  const id = anchorOf('v', s.id, value);
  return html`<label for="${id}"><input type="radio" id="${id}" name="${name}" value="${value}"${c.verdict === value ? html` checked` : ''}> ${text}</label>`;
})}
<label class="note" for="${noteId}">Note on “${s.title}” <span class="muted">(required to send back; at most ${MAX_NOTE_CHARS} characters)</span></label>
<textarea id="${noteId}" name="note:${s.id}">${c.note ?? ''}</textarea></fieldset>`;
}
