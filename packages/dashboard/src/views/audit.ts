import { verdictWords, type ReviewDecisionRecord, type RunRecord } from '@baton/registry';
import { formatTime } from '../format.js';
import { html, type SafeHtml } from '../html.js';

/**
 * The review audit trail of a run for people: who decided what on which section and when, with the
 * note and what wrote the text they decided on. Every value is escaped (notes are free text).
 */
export function auditBody(run: RunRecord, decisions: ReviewDecisionRecord[]): SafeHtml {
  return html`<h1>Review record${run.title ? html` of “${run.title}”` : ''}</h1>
<p class="muted">Run <a href="/runs/${encodeURIComponent(run.runId)}">${run.runId}</a> (${run.pipeline}). <a href="/runs/${encodeURIComponent(run.runId)}/audit.json">Download as JSON</a></p>
${
  decisions.length === 0
    ? html`<p class="muted">No review decision has been recorded for this run.</p>`
    : html`<table class="audit"><thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Round</th><th scope="col">Section</th><th scope="col">Verdict</th><th scope="col">Note</th><th scope="col">Text written by</th></tr></thead><tbody>
${decisions.map(
  (d) => html`<tr data-section="${d.sectionId ?? ''}"><td>${formatTime(d.decidedAt)}</td><td>${d.decidedBy ?? html`<span class="muted">not given</span>`}</td>
<td>${d.round ?? ''}</td><td>${d.sectionId ? html`${d.sectionTitle ?? d.sectionId} <span class="muted">(${d.sectionId})</span>` : html`<span class="muted">gate “${d.gate}”</span>`}</td>
<td>${verdictWords(d.verdict)}</td><td style="white-space:pre-wrap">${d.note ?? ''}</td>
<td>${d.modelId ?? ''}${d.promptSha256 ? html` <span class="muted">prompt ${d.promptSha256.slice(0, 12)}</span>` : ''}</td></tr>`,
)}</tbody></table>`
}`;
}
