import { createHmac, timingSafeEqual } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHttpStub, type HttpStub, type StubRequest } from '../test-support/http-stub.js';
import { FORBIDDEN, sampleNotice } from '../test-support/review-notice.js';
import { createWebhookReviewNotifier } from './webhook.js';
import { stageErrorOf } from '../test-support/stage-error.js';

const dashboardUrl = 'https://baton.example.com';
let hook: HttpStub;

/** What a receiver does: recompute the HMAC of the raw body and compare in constant time. */
function verified(req: StubRequest, key: string): boolean {
  const header = String(req.headers['x-baton-signature'] ?? '');
  if (!header.startsWith('sha256=')) return false;
  const expected = Buffer.from(createHmac('sha256', key).update(req.body).digest('hex'));
  const got = Buffer.from(header.slice('sha256='.length));
  return got.length === expected.length && timingSafeEqual(got, expected);
}

describe('webhook review notifier against a local HTTP server', () => {
  beforeAll(async () => {
    hook = await startHttpStub();
  });
  afterAll(() => hook.close());
  beforeEach(() => {
    hook.requests.length = 0;
    hook.reply({ status: 204, body: '' });
  });

  it('POSTs the notice as JSON, signed with the HMAC of the raw body, without the payload or the bare token', async () => {
    await createWebhookReviewNotifier({ url: `${hook.url}/hooks/baton`, dashboardUrl, secret: 'whsec-local', pipeline: 'report' })(sampleNotice);
    const req = hook.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/hooks/baton');
    expect(req.headers['content-type']).toBe('application/json');
    expect(verified(req, 'whsec-local')).toBe(true);
    expect(verified({ ...req, body: req.body.replace('alice', 'mallory') }, 'whsec-local')).toBe(false);
    expect(verified(req, 'another-key')).toBe(false);
    const body = JSON.parse(req.body) as Record<string, unknown>;
    expect(body).toMatchObject({
      type: 'Baton Review Requested',
      pipeline: 'report',
      runId: sampleNotice.runId,
      gate: 'medical-review',
      stepPath: 'review',
      reviewer: 'alice@example.com',
      expiresAt: sampleNotice.expiresAt,
      reviewUrl: `${dashboardUrl}/reviews/${sampleNotice.runId}/medical-review?token=${encodeURIComponent(sampleNotice.token)}`,
      subject: expect.stringContaining('medical-review'),
      text: expect.stringContaining('Assigned to:  alice@example.com'),
    });
    for (const f of FORBIDDEN) expect(req.body).not.toContain(f);
  });

  it('sends no signature without a secret, and reads a secret function once', async () => {
    await createWebhookReviewNotifier({ url: hook.url, dashboardUrl })(sampleNotice);
    expect(hook.requests[0]!.headers['x-baton-signature']).toBeUndefined();
    let reads = 0;
    const notify = createWebhookReviewNotifier({ url: hook.url, dashboardUrl, secret: async () => (reads++, 'from-secrets-manager') });
    await notify(sampleNotice);
    await notify(sampleNotice);
    expect(reads).toBe(1);
    expect(verified(hook.requests[2]!, 'from-secrets-manager')).toBe(true);
  });

  it.each([503, 429, 408])('HTTP %i is a retryable ServiceUnavailableException naming the origin only', async (status) => {
    hook.reply({ status, body: 'busy' });
    const e = await stageErrorOf(createWebhookReviewNotifier({ url: `${hook.url}/services/T0/B0/SECRETPATH`, dashboardUrl })(sampleNotice));
    expect(e).toMatchObject({ code: 'ServiceUnavailableException', retryable: true, details: { target: `webhook ${hook.url}`, httpStatus: status } });
    expect(e.message).toContain(`was not delivered to webhook ${hook.url}: HTTP ${status}`);
    expect(e.message).not.toContain('SECRETPATH');
  });

  it('another non-2xx answer is a fatal ConfigurationError', async () => {
    hook.reply({ status: 401, body: 'bad signature' });
    const e = await stageErrorOf(createWebhookReviewNotifier({ url: hook.url, dashboardUrl, secret: 'k' })(sampleNotice));
    expect(e).toMatchObject({ code: 'ConfigurationError', retryable: false, details: { httpStatus: 401 } });
    expect(e.message).toMatch(/answered HTTP 401; check the webhook URL and its signing secret/);
  });

  it('an unreachable or silent receiver is a retryable ServiceUnavailableException', async () => {
    const closed = await startHttpStub();
    await closed.close();
    const dead = await stageErrorOf(createWebhookReviewNotifier({ url: `${closed.url}/hook`, dashboardUrl })(sampleNotice));
    expect(dead).toMatchObject({ code: 'ServiceUnavailableException', retryable: true });
    expect(dead.message).toMatch(/ECONNREFUSED/);
    const silent = await stageErrorOf(
      createWebhookReviewNotifier({
        url: hook.url,
        dashboardUrl,
        timeoutMs: 50,
        fetch: (_u, init) => new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason as Error))),
      })(sampleNotice),
    );
    expect(silent.message).toMatch(/no answer within 50 ms/);
  });
});
