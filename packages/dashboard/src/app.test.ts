import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboardApp } from './app.js';
import { reviewLink } from './review-link.js';
import { createDashboardServer } from './server.js';
import { createFixture, type Fixture } from './test-support/fixture.js';

const TOKEN = 'dashboard-secret-0123456789';
const BEARER = { authorization: `Bearer ${TOKEN}` };
let fx: Fixture;
let app: ReturnType<typeof createDashboardApp>;

beforeAll(async () => {
  fx = await createFixture();
  app = createDashboardApp({ registry: fx.registry, engine: fx.engine, token: TOKEN });
});
afterAll(() => fx.close());

const get = async (path: string, headers: Record<string, string> = BEARER): Promise<Response> => app.fetch(new Request(`http://127.0.0.1${path}`, { headers }));
const post = async (path: string, form: Record<string, string>, headers: Record<string, string> = BEARER): Promise<Response> =>
  app.fetch(new Request(`http://127.0.0.1${path}`, { method: 'POST', headers, body: new URLSearchParams(form) }));
const pathOf = (link: string): string => link.replace(/^http:\/\/[^/]+/, '');

describe('authentication', () => {
  it('sends anonymous visitors to the login page and refuses anonymous posts', async () => {
    const res = await get('/runs/x?a=1', {});
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login?next=%2Fruns%2Fx%3Fa%3D1');
    expect((await get('/', { authorization: 'Bearer wrong-token-0123456789' })).status).toBe(303);
    expect((await post('/reviews/r/g', { token: 't', decision: 'approve' }, {})).status).toBe(401);
  });

  it('exchanges the token for an HttpOnly SameSite=Strict session cookie, and refuses a wrong one', async () => {
    const bad = await post('/login', { token: 'nope', next: '/' }, {});
    expect(bad.status).toBe(401);
    expect(await bad.text()).toContain('That token is not valid');
    const ok = await post('/login', { token: TOKEN, next: '//evil.example/' }, {});
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/');
    const cookie = ok.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toContain(TOKEN);
    const session = cookie.split(';')[0]!;
    expect((await get('/', { cookie: session })).status).toBe(200);
  });

  it('sets a strict content security policy and no referrer (review links carry tokens)', async () => {
    const res = await get('/');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('binds 127.0.0.1 by default', async () => {
    const server = createDashboardServer({ registry: fx.registry, engine: fx.engine, token: TOKEN, port: 0 });
    const url = await server.listen();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${url}/`, { headers: BEARER });
    expect(await res.text()).toContain('Pipeline runs');
    await server.close();
  });

  it('rejects a short dashboard token', () => {
    expect(() => createDashboardApp({ registry: fx.registry, engine: fx.engine, token: 'short' })).toThrow(/16 characters/);
  });
});

describe('pages', () => {
  it('escapes everything it renders', async () => {
    const runId = 'evil-<script>alert(1)</script>';
    const at = new Date().toISOString();
    await fx.registry.apply({ type: 'run-started', runId, pipeline: '<img src=x onerror=alert(2)>', engine: 'local', input: {}, at });
    await fx.registry.apply({
      type: 'run-finished',
      runId,
      status: 'failed',
      error: { code: '<b>Bad</b>', message: '"><script>alert(3)</script>', retryable: false },
      at,
    });
    const list = await (await get('/')).text();
    const detail = await (await get(`/runs/${encodeURIComponent(runId)}`)).text();
    for (const body of [list, detail]) {
      expect(body).not.toMatch(/<script>alert|<img src=x|<b>Bad<\/b>/);
      expect(body).toContain('&lt;img src=x onerror=alert(2)&gt;');
    }
    expect(detail).toContain('&quot;&gt;&lt;script&gt;alert(3)&lt;/script&gt;');
  });

  it('lists runs filtered by status, pipeline and engine, and shows a run timeline', async () => {
    const notice = await fx.startWaiting('Filter test');
    const waiting = await (await get('/?status=waiting&pipeline=quarterly-report&engine=local')).text();
    expect(waiting).toContain(notice.runId);
    expect(waiting).toContain('Waiting for review');
    expect(await (await get('/?status=succeeded')).text()).not.toContain(notice.runId);
    expect(await (await get('/?engine=temporal')).text()).not.toContain(notice.runId);
    const detail = await (await get(`/runs/${notice.runId}`)).text();
    expect(detail).toMatch(/data-step="draft"[\s\S]*Succeeded[\s\S]*data-attempt="1"/);
    expect(detail).toContain('data-step="review"');
    expect(detail).toContain('Waiting for review at “editor”');
    expect(detail).not.toContain(notice.token);
    expect(await (await get('/reviews')).text()).toContain(notice.runId);
  });
});

describe('review links', () => {
  it('shows the payload and the decision form only with a valid token', async () => {
    const notice = await fx.startWaiting('Payload test');
    const withToken = await (await get(pathOf(reviewLink('http://x', notice)))).text();
    expect(withToken).toContain('Revenue');
    expect(withToken).toContain('What happened with Risks this quarter.');
    expect(withToken).toContain('value="approve"');
    const without = await (await get(`/reviews/${notice.runId}/editor`)).text();
    expect(without).toContain('Revenue');
    expect(without).not.toContain('value="approve"');
  });

  it('rejects a forged token with a clear page and leaves the run waiting', async () => {
    const notice = await fx.startWaiting('Forged test');
    const forged = { ...notice, token: notice.token.slice(0, -2) + (notice.token.endsWith('AA') ? 'BB' : 'AA') };
    const page = await get(pathOf(reviewLink('http://x', forged)));
    expect(page.status).toBe(403);
    expect(await page.text()).toContain('This review link is not valid');
    const res = await post(`/reviews/${notice.runId}/editor`, { token: forged.token, decision: 'approve' });
    expect(res.status).toBe(403);
    expect((await fx.engine.status(notice.runId)).status).toBe('waiting');
  });

  it('needs the CSRF field when the session cookie authenticates a post', async () => {
    const notice = await fx.startWaiting('CSRF test');
    const login = await post('/login', { token: TOKEN, next: '/' }, {});
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const csrf = /name="csrf" value="([^"]+)"/.exec(await (await get('/', { cookie })).text())![1]!;
    const refused = await post(`/reviews/${notice.runId}/editor`, { token: notice.token, decision: 'approve' }, { cookie });
    expect(refused.status).toBe(403);
    expect((await fx.engine.status(notice.runId)).status).toBe('waiting');
    const ok = await post(`/reviews/${notice.runId}/editor`, { token: notice.token, decision: 'approve', csrf }, { cookie });
    expect(ok.status).toBe(303);
    expect((await fx.engine.result(notice.runId)).status).toBe('succeeded');
  });

  it('approves through the engine once; a replayed link is refused', async () => {
    const notice = await fx.startWaiting('Replay test');
    const res = await post(`/reviews/${notice.runId}/editor`, { token: notice.token, decision: 'approve', reviewer: 'Ana', comment: 'Good to go' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/runs/${notice.runId}?decided=approve`);
    expect((await fx.engine.result(notice.runId)).status).toBe('succeeded');
    await fx.waitFor(notice.runId, 'succeeded');
    const replay = await post(`/reviews/${notice.runId}/editor`, { token: notice.token, decision: 'approve' });
    expect(replay.status).toBe(409);
    expect(await replay.text()).toContain('This review is closed');
    expect((await get(pathOf(reviewLink('http://x', notice)))).status).toBe(409);
    const review = await fx.registry.getReview(notice.runId, 'editor');
    expect(review).toMatchObject({ decision: 'approved', decidedBy: 'Ana', comment: 'Good to go' });
  });

  it('refuses a replay the registry has not seen yet, because the engine is the authority', async () => {
    const notice = await fx.startWaiting('Race test');
    await fx.engine.approve(notice.runId, 'editor', { token: notice.token });
    const replay = await post(`/reviews/${notice.runId}/editor`, { token: notice.token, decision: 'reject' });
    expect(replay.status).toBe(409);
    expect((await fx.engine.result(notice.runId)).status).toBe('succeeded');
  });

  it('rejects with a comment: the run fails with ApprovalRejected', async () => {
    const notice = await fx.startWaiting('Reject test');
    const res = await post(`/reviews/${notice.runId}/editor`, { token: notice.token, decision: 'reject', comment: 'Risks section is <wrong>' });
    expect(res.status).toBe(303);
    const outcome = await fx.engine.result(notice.runId);
    expect(outcome.status === 'failed' && outcome.error.code).toBe('ApprovalRejected');
    await fx.waitFor(notice.runId, 'failed');
    const detail = await (await get(`/runs/${notice.runId}`)).text();
    expect(detail).toContain('Risks section is &lt;wrong&gt;');
    expect(detail).toContain('validation failure');
  });
});
