import type { BlobStore, Engine, RunState } from '@baton/core';
import type { RunFilter, RunRegistry, TokenPricing } from '@baton/registry';
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { SESSION_COOKIE, deriveSecret, safeNext, sameSecret } from './auth.js';
import type { SafeHtml } from './html.js';
import { messagePage, page } from './views/layout.js';
import { loginPage } from './views/login.js';
import { registerReviewRoutes, type DashboardEnv } from './review-routes.js';
import { reviewsBody } from './views/reviews.js';
import { runDetailBody } from './views/run-detail.js';
import { runsBody } from './views/runs.js';

/** Options of {@link createDashboardApp} and {@link createDashboardServer}. */
export interface DashboardOptions {
  /** Where runs are read from. */
  registry: RunRegistry;
  /** The engine(s) that resume runs on approve/reject, chosen by the run's engine name. */
  engine: Engine | Engine[];
  /** The dashboard secret (at least 16 characters): `Authorization: Bearer <token>`, or typed once at /login for a session cookie. */
  token: string;
  /** Resolves claim-checked review payloads for display. */
  blobs?: BlobStore;
  /** Prices to show a run's model cost. */
  pricing?: TokenPricing;
  /** Mark the session cookie `Secure` (behind HTTPS). @default false */
  secureCookies?: boolean;
  /** Seconds between automatic reloads of pages with runs in flight. @default 3 */
  refreshSeconds?: number;
}

type Auth = { ok: false } | { ok: true; via: 'bearer' | 'cookie' };

const STATUSES: readonly RunState[] = ['running', 'waiting', 'succeeded', 'failed'];

/**
 * The dashboard as a hono app (`app.fetch(request)`): runs list, run timelines, reviews and the
 * approve/reject seam. {@link createDashboardServer} serves it on 127.0.0.1.
 *
 * @example
 * ```ts
 * const app = createDashboardApp({ registry, engine, token: process.env.BATON_DASHBOARD_TOKEN! });
 * const res = await app.fetch(new Request('http://localhost/', { headers: { authorization: `Bearer ${token}` } }));
 * ```
 */
export function createDashboardApp(options: DashboardOptions): Hono<DashboardEnv> {
  if (options.token.length < 16) throw new Error('the dashboard token must be at least 16 characters');
  const { registry } = options;
  const engines = Array.isArray(options.engine) ? options.engine : [options.engine];
  const session = deriveSecret(options.token, 'session');
  const csrf = deriveSecret(options.token, 'csrf');
  const refresh = options.refreshSeconds ?? 3;
  const app = new Hono<DashboardEnv>();

  const authOf = (c: Context<DashboardEnv>): Auth => {
    const header = c.req.header('authorization');
    if (header?.startsWith('Bearer ') && sameSecret(header.slice(7), options.token)) return { ok: true, via: 'bearer' };
    if (sameSecret(getCookie(c, SESSION_COOKIE), session)) return { ok: true, via: 'cookie' };
    return { ok: false };
  };
  const send = (c: Context<DashboardEnv>, body: SafeHtml, status: 200 | 401 | 403 | 404 | 409 | 500 = 200): Response => c.html(body.value, status);
  const engineFor = (name: string): Engine | undefined => engines.find((e) => e.name === name) ?? (engines.length === 1 ? engines[0] : undefined);

  app.use('*', async (c, next) => {
    await next();
    c.header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    c.header('Referrer-Policy', 'no-referrer'); // review links carry tokens
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Cache-Control', 'no-store');
  });

  app.get('/login', (c) => send(c, loginPage(safeNext(c.req.query('next')), false)));
  app.post('/login', async (c) => {
    const form = await c.req.parseBody();
    const next = safeNext(str(form.next));
    if (!sameSecret(str(form.token), options.token)) return send(c, loginPage(next, true), 401);
    setCookie(c, SESSION_COOKIE, session, { httpOnly: true, sameSite: 'Strict', path: '/', secure: options.secureCookies ?? false });
    return c.redirect(next, 303);
  });

  app.use('*', async (c, next) => {
    const auth = authOf(c);
    if (!auth.ok) {
      if (c.req.method === 'GET' || c.req.method === 'HEAD') {
        const url = new URL(c.req.url);
        return c.redirect(`/login?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
      }
      return c.text('authentication required', 401);
    }
    if (c.req.method === 'POST' && auth.via === 'cookie') {
      const form = await c.req.parseBody();
      if (!sameSecret(str(form.csrf), csrf)) return send(c, messagePage('Request refused', 'This form is stale or came from another site. Reload the page and try again.'), 403);
    }
    return next();
  });

  app.post('/logout', (c) => {
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.redirect('/login', 303);
  });

  app.get('/', async (c) => {
    const q = c.req.query();
    const filter: RunFilter = {};
    if (q.status && (STATUSES as string[]).includes(q.status)) filter.status = q.status as RunState;
    if (q.pipeline) filter.pipeline = q.pipeline;
    if (q.engine) filter.engine = q.engine;
    const [runs, inFlight, failures, reviews, known] = await Promise.all([
      registry.listRuns(filter),
      registry.runsInFlight(),
      registry.failuresByClass(),
      registry.pendingReviews(),
      registry.listRuns({ limit: 1000 }),
    ]);
    const distinct = (values: string[]): string[] => [...new Set(values)].sort();
    const body = runsBody({
      runs, inFlight, failures, filter, openReviews: reviews.length,
      pipelines: distinct(known.map((r) => r.pipeline)),
      engines: distinct([...known.map((r) => r.engine), ...engines.map((e) => e.name)]),
    });
    return send(c, page('Runs', body, { csrf, ...(inFlight.length > 0 ? { refreshSeconds: refresh } : {}) }));
  });

  app.get('/runs/:runId', async (c) => {
    const run = await registry.getRun(c.req.param('runId'));
    if (!run) return send(c, messagePage('Run not found', `No run "${c.req.param('runId')}" is recorded.`, { csrf, back: { href: '/', label: 'All runs' } }), 404);
    const inFlight = run.status === 'running' || run.status === 'waiting';
    const decided = c.req.query('decided');
    const body = runDetailBody(run, Date.now(), options.pricing, decided === 'approve' || decided === 'reject' ? decided : undefined);
    return send(c, page(`Run ${run.runId}`, body, { csrf, ...(inFlight ? { refreshSeconds: refresh } : {}) }));
  });

  app.get('/reviews', async (c) => send(c, page('Reviews', reviewsBody(await registry.pendingReviews()), { csrf, refreshSeconds: refresh * 5 })));

  registerReviewRoutes(app, { registry, blobs: options.blobs, engineFor, csrfOf: () => csrf });

  app.notFound((c) => send(c, messagePage('Not found', 'There is no page here.', { back: { href: '/', label: 'All runs' } }), 404));
  app.onError((e, c) => send(c, messagePage('Something went wrong', e.message, { back: { href: '/', label: 'All runs' } }), 500));

  return app;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
