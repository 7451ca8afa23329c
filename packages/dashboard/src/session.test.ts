import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboardApp } from './app.js';
import { isLookupId, safeNext } from './auth.js';
import { createLoginLimiter } from './login-limit.js';
import { createDashboardServer } from './server.js';
import { createSessionStore } from './session.js';
import { createFixture, type Fixture } from './test-support/fixture.js';

const TOKEN = 'dashboard-secret-0123456789';
let fx: Fixture;
let app: ReturnType<typeof createDashboardApp>;

beforeAll(async () => {
  fx = await createFixture();
  app = createDashboardApp({ registry: fx.registry, engine: fx.engine, token: TOKEN, loginLimit: { failureDelayMs: 0 } });
});
afterAll(() => fx.close());

type App = ReturnType<typeof createDashboardApp>;
const get = (a: App, path: string, headers: Record<string, string> = {}): Promise<Response> =>
  Promise.resolve(a.fetch(new Request(`http://127.0.0.1${path}`, { headers })));
const post = (a: App, path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> =>
  Promise.resolve(a.fetch(new Request(`http://127.0.0.1${path}`, { method: 'POST', headers, body: new URLSearchParams(form) })));

/** Logs in; returns the `name=value` cookie and the CSRF value its pages carry. */
async function login(a: App = app): Promise<{ cookie: string; csrf: string }> {
  const res = await post(a, '/login', { token: TOKEN, next: '/' });
  expect(res.status).toBe(303);
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
  const page = await (await get(a, '/', { cookie })).text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1];
  if (!csrf) throw new Error('no CSRF field on the runs page');
  return { cookie, csrf };
}

describe('sessions', () => {
  it('gives every login its own random session and CSRF value, neither derived from the token', async () => {
    const a = await login();
    const b = await login();
    expect(a.cookie).not.toBe(b.cookie);
    expect(a.csrf).not.toBe(b.csrf);
    const value = a.cookie.split('=')[1]!;
    expect(value.length).toBeGreaterThanOrEqual(43); // 256 bits, base64url
    // a second dashboard with the same token does not accept the first one's cookie
    const other = createDashboardApp({ registry: fx.registry, engine: fx.engine, token: TOKEN });
    expect((await get(other, '/', { cookie: a.cookie })).status).toBe(303);
  });

  it('revokes the session at logout: the old cookie no longer works, even if replayed', async () => {
    const { cookie, csrf } = await login();
    expect((await get(app, '/', { cookie })).status).toBe(200);
    const out = await post(app, '/logout', { csrf }, { cookie });
    expect(out.status).toBe(303);
    const after = await get(app, '/', { cookie });
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toMatch(/^\/login/);
  });

  it('expires a session after its lifetime, and says so in the cookie', async () => {
    const short = createDashboardApp({ registry: fx.registry, engine: fx.engine, token: TOKEN, sessionSeconds: 1 });
    const res = await post(short, '/login', { token: TOKEN, next: '/' });
    expect(res.headers.get('set-cookie')).toMatch(/Expires=/);
    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
    expect((await get(short, '/', { cookie })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await get(short, '/', { cookie })).status).toBe(303);
  });

  it("binds the CSRF value to its session: another session's value is refused", async () => {
    const notice = await fx.startWaiting('CSRF binding test');
    const a = await login();
    const b = await login();
    const refused = await post(app, `/reviews/${notice.runId}/editor`, { token: notice.token, decision: 'approve', csrf: b.csrf }, { cookie: a.cookie });
    expect(refused.status).toBe(403);
    expect((await fx.engine.status(notice.runId)).status).toBe('waiting');
    const ok = await post(app, `/reviews/${notice.runId}/editor`, { token: notice.token, decision: 'approve', csrf: a.csrf }, { cookie: a.cookie });
    expect(ok.status).toBe(303);
  });

  it('unit: a store forgets revoked and expired sessions', () => {
    let now = 1_000;
    const store = createSessionStore({ ttlMs: 100, now: () => now });
    const s = store.create();
    expect(store.get(s.id)).toBe(s);
    now += 100;
    expect(store.get(s.id)).toBeUndefined();
    const t = store.create();
    store.revoke(t.id);
    expect(store.get(t.id)).toBeUndefined();
    expect(store.get(undefined)).toBeUndefined();
  });
});

describe('login rate limit', () => {
  it('answers a burst of wrong tokens with 429 and Retry-After, the right token included, and delays each failure', async () => {
    const limited = createDashboardApp({
      registry: fx.registry,
      engine: fx.engine,
      token: TOKEN,
      loginLimit: { maxFailures: 5, windowMs: 60_000, failureDelayMs: 100 },
    });
    const started = Date.now();
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await post(limited, '/login', { token: `guess-${i}-0123456789abcdef` })).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    // five failures, each held back 100 ms: guessing cannot go at full speed
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    const right = await post(limited, '/login', { token: TOKEN });
    expect(right.status).toBe(429);
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(right.headers.get('set-cookie')).toBeNull();
  });

  it('unit: counts per client address, in a sliding window, and forgets an address that logged in', () => {
    let now = 0;
    const limiter = createLoginLimiter({ maxFailures: 2, windowMs: 1000, now: () => now });
    limiter.failed('10.0.0.1');
    limiter.failed('10.0.0.1');
    expect(limiter.retryAfterMs('10.0.0.1')).toBe(1000);
    expect(limiter.retryAfterMs('10.0.0.2')).toBe(0);
    now = 1001;
    expect(limiter.retryAfterMs('10.0.0.1')).toBe(0);
    limiter.failed('10.0.0.2');
    limiter.succeeded('10.0.0.2');
    limiter.failed('10.0.0.2');
    expect(limiter.retryAfterMs('10.0.0.2')).toBe(0);
  });

  it('limits by the peer address of a real connection', async () => {
    const server = createDashboardServer({
      registry: fx.registry,
      engine: fx.engine,
      token: TOKEN,
      port: 0,
      loginLimit: { maxFailures: 2, failureDelayMs: 0 },
    });
    const url = await server.listen();
    try {
      const tries = [];
      for (let i = 0; i < 3; i++)
        tries.push(
          (await fetch(`${url}/login`, { method: 'POST', body: new URLSearchParams({ token: 'wrong-token-0123456789' }), redirect: 'manual' })).status,
        );
      expect(tries).toEqual([401, 401, 429]);
    } finally {
      await server.close();
    }
  });
});

describe('URLs from outside', () => {
  it('answers a run id the database cannot take with 404 and none of its error text', async () => {
    const { cookie } = await login();
    for (const path of ['/runs/a%00b', '/reviews/a%00b/editor', '/reviews/r1/g%00x']) {
      const res = await get(app, path, { cookie });
      expect(res.status, path).toBe(404);
      const body = await res.text();
      expect(body).not.toMatch(/byte sequence|UTF8|0x00/);
    }
    expect(isLookupId('evil-<script>')).toBe(true); // odd but storable ids are looked up (and escaped)
    expect(isLookupId('\ud800x')).toBe(false);
  });

  it('never shows an internal error text, only a reference', async () => {
    const logged: string[] = [];
    const broken = { ...fx.registry, listRuns: () => Promise.reject(new Error('connect ECONNREFUSED db.internal:5432 password=hunter2')) };
    const failing = createDashboardApp({ registry: broken, engine: fx.engine, token: TOKEN, logError: (m) => void logged.push(m) });
    const res = await get(failing, '/', { authorization: `Bearer ${TOKEN}` });
    expect(res.status).toBe(500);
    const body = await res.text();
    expect(body).not.toContain('hunter2');
    expect(body).not.toContain('db.internal');
    const ref = /reference ([0-9a-f]+)/.exec(body)?.[1];
    expect(ref).toBeDefined();
    expect(logged.join('\n')).toContain(`ref ${ref}`);
  });

  it('redirects after login only to a path of this dashboard', async () => {
    const cases: [string, string][] = [
      ['/runs/x?a=1', '/runs/x?a=1'],
      ['//evil.example/', '/'],
      ['/\\evil.example', '/'],
      ['/\t/evil.example', '/'],
      ['/%09/evil.example', '/%09/evil.example'],
      ['https://evil.example/', '/'],
      ['/\r\nSet-Cookie: x=1', '/'],
      ['javascript:alert(1)', '/'],
    ];
    for (const [next, expected] of cases) expect(safeNext(next), JSON.stringify(next)).toBe(expected);
    const res = await post(app, '/login', { token: TOKEN, next: '/\t/evil.example' });
    expect(res.headers.get('location')).toBe('/');
  });
});

describe('binding', () => {
  it('warns when it listens off loopback, and not on 127.0.0.1', async () => {
    const warnings: string[] = [];
    const open = createDashboardServer({
      registry: fx.registry,
      engine: fx.engine,
      token: TOKEN,
      port: 0,
      hostname: '0.0.0.0',
      warn: (m) => void warnings.push(m),
    });
    await open.listen();
    await open.close();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/0\.0\.0\.0, not on loopback/);
    const local = createDashboardServer({ registry: fx.registry, engine: fx.engine, token: TOKEN, port: 0, warn: (m) => void warnings.push(m) });
    await local.listen();
    await local.close();
    expect(warnings).toHaveLength(1);
  });
});
