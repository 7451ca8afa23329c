import type { ReviewNotice } from '@baton/core';

/**
 * The link a reviewer receives: the dashboard page of the gate, carrying the single-use token.
 * Use it in a {@link ReviewNotifier} (email, chat); the dashboard never stores the token.
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
