import type { ReviewNotice } from './engine.js';

/**
 * The link a reviewer receives: the dashboard page of the gate, carrying the single-use token.
 * It lives in core (not in the dashboard) so that a review-gate Lambda can build it without
 * bundling the dashboard. Use it in a {@link ReviewNotifier} (email, chat, SNS); the dashboard
 * never stores the token.
 *
 * @example
 * ```ts
 * const engine = createLocalEngine({ pipelines, notifier: (n) => mail(n.reviewer, reviewLink('http://127.0.0.1:4680', n)) });
 * ```
 */
export function reviewLink(baseUrl: string, notice: Pick<ReviewNotice, 'runId' | 'gate' | 'token'>): string {
  const base = baseUrl.replace(/\/+$/, '');
  return `${base}/reviews/${encodeURIComponent(notice.runId)}/${encodeURIComponent(notice.gate)}?token=${encodeURIComponent(notice.token)}`;
}
