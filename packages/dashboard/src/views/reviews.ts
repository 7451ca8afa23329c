import type { ReviewRecord } from '@baton/registry';
import { formatTime } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import type { ReviewFormInput } from '../review-form.js';
import type { ReviewContent } from '../review-sections.js';
import { renderPayload } from './payload.js';
import { anchorOf, reviewSection } from './review-section.js';

/** Open reviews, oldest first. Deciding needs the reviewer's link; the list never shows tokens. */
export function reviewsBody(reviews: ReviewRecord[]): SafeHtml {
  return html`<h1>Waiting for review</h1>
${
  reviews.length === 0
    ? html`<p class="muted">Nothing is waiting for a reviewer.</p>`
    : html`<table><thead><tr><th>Run</th><th>Gate</th><th>Reviewer</th><th>Waiting since</th><th>Expires</th></tr></thead><tbody>
${reviews.map(
  (r) => html`<tr><td><a href="/runs/${encodeURIComponent(r.runId)}">${r.runId}</a></td>
<td><a href="/reviews/${encodeURIComponent(r.runId)}/${encodeURIComponent(r.gate)}">${r.gate}</a></td><td>${r.reviewer ?? 'anyone with the link'}</td>
<td>${formatTime(r.createdAt)}</td><td>${formatTime(r.expiresAt)}</td></tr>`,
)}</tbody></table>`
}`;
}

/** What the review page knows about the link it was opened with. */
export type LinkState = 'valid' | 'missing';

/** Everything the review page shows. */
export interface ReviewPageView {
  review: ReviewRecord;
  /** The run's title (the report's), when known. */
  title?: string;
  content: ReviewContent;
  /** Ids the gate takes verdicts for; absent: one decision on the whole gate. */
  sections?: readonly string[];
  link: LinkState;
  token?: string;
  csrf: string;
  /** The review round this gate is (1: the run's first decision at this gate name), when the run has had more than one. */
  round?: number;
  /** What the reviewer typed in a form that was refused, shown again so nothing is lost. */
  entered?: ReviewFormInput;
  problems?: string[];
}

/**
 * One review: each section's text beside its cited sources, findings and (with a valid link) its
 * verdict controls; the payload as structure when it has no sections; the decision form.
 */
export function reviewBody(v: ReviewPageView): SafeHtml {
  const { review, content } = v;
  const action = `/reviews/${encodeURIComponent(review.runId)}/${encodeURIComponent(review.gate)}`;
  const canDecide = v.link === 'valid' && v.token !== undefined;
  const asked = new Set(v.sections ?? []);
  const round = v.round;
  const sections = content.sections;
  return html`<h1>Review${v.title ? html` of “${v.title}”` : ''} <span class="muted">· run <a href="/runs/${encodeURIComponent(review.runId)}">${review.runId}</a></span></h1>
<p class="muted">Gate “${review.gate}”${round !== undefined ? html`, review round ${round}` : ''}: ${review.reviewer ? html`waiting for ${review.reviewer}` : 'waiting for anyone with the review link'} since ${formatTime(review.createdAt)}${
    review.expiresAt ? html`, expires ${formatTime(review.expiresAt)}` : ''
  }.</p>
${v.problems?.length ? html`<div class="panel alert" role="alert"><b>Nothing was sent.</b> Fix these and send again (what you typed is kept):<ul>${v.problems.map((p) => html`<li>${p}</li>`)}</ul></div>` : ''}
${
  sections.length > 0
    ? html`<nav class="toc panel" aria-label="Sections"><b>${sections.length} sections</b><ol>${sections.map(
        (s) =>
          html`<li><a href="#${anchorOf('s', s.id)}">${s.title}</a>${s.state === 'ready' ? '' : html` <span class="muted">(${s.state === 'held' ? 'held for safety' : 'not written'})</span>`}</li>`,
      )}</ol></nav>`
    : ''
}
${canDecide ? html`<form method="post" action="${action}"><input type="hidden" name="token" value="${v.token}"><input type="hidden" name="csrf" value="${v.csrf}">` : ''}
${
  sections.length > 0
    ? sections.map((s, i) =>
        reviewSection(s, i + 1, canDecide && asked.has(s.id) ? { verdict: v.entered?.verdicts[s.id], note: v.entered?.notes[s.id] } : undefined),
      )
    : html`<h2>What to review</h2><div class="panel payload">${renderPayload(content.payload)}</div>`
}
${
  canDecide
    ? html`<div class="panel"><label for="reviewer">Your name</label><input id="reviewer" name="reviewer" value="${v.entered?.reviewer ?? review.reviewer ?? ''}"${review.reviewer ? html` readonly` : ''}>
<label for="comment">Comment</label><textarea id="comment" name="comment" placeholder="What should the team know about your decision?">${v.entered?.comment ?? ''}</textarea>
<p><button class="approve" type="submit" name="decision" value="approve">${asked.size > 0 ? 'Send my verdicts' : 'Approve'}</button>${
        asked.size > 0 ? html` <button type="submit" name="decision" value="approve-all">Approve everything as it stands</button>` : ''
      } <button class="reject" type="submit" name="decision" value="reject">Reject the whole report</button></p></div></form>`
    : html`<div class="panel notice">Only the reviewer can decide: open the review link that was sent to them.</div>`
}`;
}
