import { StageError, type ReviewNotice } from '@baton/core';
import { createHmac } from 'node:crypto';
import { cachedSecret } from '../models/from-env-aws.js';
import { REVIEW_REQUESTED, deliveryFailed, reviewMessage, reviewRequested } from './message.js';

/** Options of {@link createWebhookReviewNotifier}. */
export interface WebhookReviewNotifierOptions {
  /** Where the notice is POSTed. Only its origin appears in errors and logs (webhook paths are often secret). */
  url: string;
  /** Base URL of the dashboard; the notice carries `reviewLink(dashboardUrl, notice)`. */
  dashboardUrl: string;
  /** HMAC key of the `X-Baton-Signature` header: the value, or a function that fetches it (called once). */
  secret?: string | (() => Promise<string>);
  /** The pipeline's name, put in the body. */
  pipeline?: string;
  /** @default 10000 */
  timeoutMs?: number;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

/**
 * The header carrying `sha256=<hex HMAC-SHA256 of the raw body>` (lower case, as Node reports headers).
 *
 * @example
 * ```ts
 * const ok = req.headers[SIGNATURE_HEADER] === `sha256=${createHmac('sha256', key).update(rawBody).digest('hex')}`;
 * ```
 */
export const SIGNATURE_HEADER = 'x-baton-signature';

/**
 * A review notifier that POSTs JSON to a webhook: `type` (`Baton Review Requested`), the fields a
 * reviewer needs (`pipeline`, `runId`, `gate`, `stepPath`, `reviewer`, `createdAt`, `expiresAt`,
 * `reviewUrl`) and a ready-made `subject` and `text`. The payload is not sent; the token appears
 * only inside `reviewUrl`. With a `secret`, the request carries `X-Baton-Signature: sha256=<hex>`,
 * the HMAC-SHA256 of the raw body, which the receiver recomputes to check the sender (compare with
 * `timingSafeEqual`). A network failure, a timeout, 408, 429 or 5xx is a retryable
 * `ServiceUnavailableException` naming the webhook's origin; another non-2xx answer (wrong URL,
 * refused signature) a fatal `ConfigurationError`.
 *
 * @example
 * ```ts
 * const notifier = createWebhookReviewNotifier({ url: 'https://hooks.example.com/baton', dashboardUrl: 'https://baton.example.com', secret: 'shared-hmac-key' });
 * // receiver: createHmac('sha256', key).update(rawBody).digest('hex') === header.slice('sha256='.length)
 * ```
 */
export function createWebhookReviewNotifier(options: WebhookReviewNotifierOptions): (notice: ReviewNotice) => Promise<void> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const target = `webhook ${originOf(options.url)}`;
  const readSecret = typeof options.secret === 'function' ? cachedSecret(options.secret) : undefined;
  return async (notice) => {
    const r = reviewRequested(notice, options);
    const body = JSON.stringify({ type: REVIEW_REQUESTED, ...r, ...reviewMessage(r) });
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'baton-review-notifier' };
    const key = typeof options.secret === 'string' ? options.secret : await readSecret?.();
    if (key !== undefined) headers[SIGNATURE_HEADER] = `sha256=${createHmac('sha256', key).update(body).digest('hex')}`;
    let res: Response;
    try {
      res = await doFetch(options.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) });
    } catch (e) {
      const err = e as Error;
      throw deliveryFailed(target, r, err.name === 'TimeoutError' ? `no answer within ${options.timeoutMs ?? 10_000} ms` : `${err.message}${causeOf(err)}`);
    }
    await res.body?.cancel();
    if (res.ok) return;
    if (res.status === 408 || res.status === 429 || res.status >= 500) throw deliveryFailed(target, r, `HTTP ${res.status}`, { httpStatus: res.status });
    throw new StageError(
      'ConfigurationError',
      `review notices cannot be sent to ${target}: it answered HTTP ${res.status}; check the webhook URL${key === undefined ? '' : ' and its signing secret'}`,
      {
        retryable: false,
        details: { target, httpStatus: res.status },
      },
    );
  };
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid URL)';
  }
}

function causeOf(err: Error): string {
  const cause = err.cause as { code?: string; message?: string } | undefined;
  return cause ? ` (${cause.code ?? cause.message ?? ''})` : '';
}
