import type { ReviewRecord } from '@baton/registry';
import { formatTime, stepLabel } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { renderPayload } from './payload.js';

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

/** One review: the payload, and the decision form when the link carries a valid token. */
export function reviewBody(review: ReviewRecord, payload: unknown, link: LinkState, token: string | undefined, csrf: string): SafeHtml {
  const action = `/reviews/${encodeURIComponent(review.runId)}/${encodeURIComponent(review.gate)}`;
  return html`<h1>Review “${review.gate}” of run <a href="/runs/${encodeURIComponent(review.runId)}">${review.runId}</a></h1>
<p class="muted">Step ${stepLabel(review.stepPath)}, waiting since ${formatTime(review.createdAt)}${review.expiresAt ? html`, expires ${formatTime(review.expiresAt)}` : ''}${
    review.reviewer ? html`, assigned to ${review.reviewer}` : ''
  }.</p>
<h2>What to review</h2><div class="panel payload">${renderPayload(payload)}</div>
${
  link === 'valid' && token
    ? html`<form method="post" action="${action}" class="panel"><input type="hidden" name="token" value="${token}"><input type="hidden" name="csrf" value="${csrf}">
<label for="reviewer">Your name</label><input id="reviewer" name="reviewer" value="${review.reviewer ?? ''}"${review.reviewer ? html` readonly` : ''}>
<label for="comment">Comment</label><textarea id="comment" name="comment" placeholder="What should the team know about your decision?"></textarea>
<p><button class="approve" type="submit" name="decision" value="approve">Approve</button> <button class="reject" type="submit" name="decision" value="reject">Reject</button></p></form>`
    : html`<div class="panel notice">Only the reviewer can decide: open the review link that was sent to them.</div>`
}`;
}
