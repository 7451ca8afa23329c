import { randomBytes } from 'node:crypto';
import type { BlobStore, Engine, RunState } from '@baton/core';
import type { RunFilter, RunRegistry, TokenPricing } from '@baton/registry';
import { Hono, type Context } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { SESSION_COOKIE, isLookupId, safeNext, sameSecret } from './auth.js';
import type { SafeHtml } from './html.js';
import { createLoginLimiter, type LoginLimitOptions } from './login-limit.js';
import { createSessionStore, type DashboardSession } from './session.js';
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
  /** Where the review page reads each section's text, its sources and claim-checked payloads (the engine's blob store). Without it, a review shows its payload as stored. */
  blobs?: BlobStore;
  /**
   * A flat price to estimate the cost of runs recorded without one. Runs whose engine had a price
   * table (`prices`) show the recorded cost instead; without either the page says "no prices configured".
   */
  pricing?: TokenPricing;
  /** Currency of the engines' price tables, for formatting costs. @default 'USD' */
  currency?: string;
  /** Mark the session cookie `Secure` (behind HTTPS). @default false */
  secureCookies?: boolean;
  /** Seconds between automatic reloads of pages with runs in flight. @default 3 */
  refreshSeconds?: number;
  /** How long a login session lasts, in seconds. @default 28800 (8 hours) */
  sessionSeconds?: number;
  /** Limits on failed logins per client address. @default 5 failures a minute, each answered after 500 ms */
  loginLimit?: Omit<LoginLimitOptions, 'now'>;
  /** Where failures the visitor is not shown are written. @default stderr */
  logError?: (message: string) => void;
}

type Auth = { ok: false } | { ok: true; via: 'bearer' } | { ok: true; via: 'cookie'; session: DashboardSession };

/** The CSRF value of the request's session, for the forms of the page it is shown ('' without a session). */
const csrfOf = (c: Context<DashboardEnv>): string => c.get('csrf') ?? '';

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
  const sessions = createSessionStore({ ttlMs: (options.sessionSeconds ?? 8 * 3600) * 1000 });
  const limiter = createLoginLimiter(options.loginLimit);
  const logError = options.logError ?? ((m: string) => void process.stderr.write(`baton dashboard: ${m}\n`));
  const refresh = options.refreshSeconds ?? 3;
  const currency = options.currency ?? 'USD';
  const app = new Hono<DashboardEnv>();

  const authOf = (c: Context<DashboardEnv>): Auth => {
    const header = c.req.header('authorization');
    if (header?.startsWith('Bearer ') && sameSecret(header.slice(7), options.token)) return { ok: true, via: 'bearer' };
    const session = sessions.get(getCookie(c, SESSION_COOKIE));
    if (session) return { ok: true, via: 'cookie', session };
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
    const address = clientAddress(c);
    const wait = limiter.retryAfterMs(address);
    if (wait > 0) {
      c.header('Retry-After', String(Math.ceil(wait / 1000)));
      return c.html(messagePage('Too many attempts', `Too many wrong tokens from this address. Try again in ${Math.ceil(wait / 1000)} s.`).value, 429);
    }
    const form = await c.req.parseBody();
    const next = safeNext(str(form.next));
    if (!sameSecret(str(form.token), options.token)) {
      limiter.failed(address);
      await new Promise((r) => setTimeout(r, limiter.failureDelayMs));
      return send(c, loginPage(next, true), 401);
    }
    limiter.succeeded(address);
    // a fresh random session per login: nothing a previous cookie knew is valid for it
    sessions.revoke(getCookie(c, SESSION_COOKIE));
    const session = sessions.create();
    setCookie(c, SESSION_COOKIE, session.id, {
      httpOnly: true,
      sameSite: 'Strict',
      path: '/',
      secure: options.secureCookies ?? false,
      expires: new Date(session.expiresAt),
    });
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
    if (auth.via === 'cookie') c.set('csrf', auth.session.csrf);
    if (c.req.method === 'POST' && auth.via === 'cookie') {
      const form = await c.req.parseBody();
      if (!sameSecret(str(form.csrf), auth.session.csrf))
        return send(c, messagePage('Request refused', 'This form is stale or came from another site. Reload the page and try again.'), 403);
    }
    return next();
  });

  // an id no run can have is not found, before any lookup can fail on it with the database's words
  const notFoundUnlessId = async (c: Context<DashboardEnv>, next: () => Promise<void>): Promise<Response | void> => {
    const { runId, gate } = c.req.param() as { runId?: string; gate?: string };
    if ((runId !== undefined && !isLookupId(runId)) || (gate !== undefined && !isLookupId(gate))) {
      return send(c, messagePage('Not found', 'There is no run or review with that name.', { csrf: csrfOf(c), back: { href: '/', label: 'All runs' } }), 404);
    }
    return next();
  };
  app.use('/runs/:runId', notFoundUnlessId);
  app.use('/runs/:runId/*', notFoundUnlessId);
  app.use('/reviews/:runId/:gate', notFoundUnlessId);
  app.use('/reviews/:runId/:gate/*', notFoundUnlessId);

  app.post('/logout', (c) => {
    sessions.revoke(getCookie(c, SESSION_COOKIE));
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.redirect('/login', 303);
  });

  app.get('/', async (c) => {
    const q = c.req.query();
    const filter: RunFilter = {};
    if (q.status && (STATUSES as string[]).includes(q.status)) filter.status = q.status as RunState;
    if (q.pipeline) filter.pipeline = q.pipeline;
    if (q.engine) filter.engine = q.engine;
    const [runs, inFlight, failures, reviews, known, week] = await Promise.all([
      registry.listRuns(filter),
      registry.runsInFlight(),
      registry.failuresByClass(),
      registry.pendingReviews(),
      registry.listRuns({ limit: 1000 }),
      registry.usageByPipeline(),
    ]);
    const distinct = (values: string[]): string[] => [...new Set(values)].sort();
    const body = runsBody({
      runs,
      inFlight,
      failures,
      filter,
      openReviews: reviews.length,
      reviews,
      week,
      currency,
      pipelines: distinct(known.map((r) => r.pipeline)),
      engines: distinct([...known.map((r) => r.engine), ...engines.map((e) => e.name)]),
    });
    return send(c, page('Runs', body, { csrf: csrfOf(c), ...(inFlight.length > 0 ? { refreshSeconds: refresh } : {}) }));
  });

  app.get('/runs/:runId', async (c) => {
    const csrf = csrfOf(c);
    const run = await registry.getRun(c.req.param('runId'));
    if (!run)
      return send(c, messagePage('Run not found', `No run "${c.req.param('runId')}" is recorded.`, { csrf, back: { href: '/', label: 'All runs' } }), 404);
    const inFlight = run.status === 'running' || run.status === 'waiting';
    const decided = c.req.query('decided');
    const body = runDetailBody(run, Date.now(), options.pricing, decided === 'approve' || decided === 'reject' ? decided : undefined, currency);
    return send(c, page(`Run ${run.runId}`, body, { csrf, ...(inFlight ? { refreshSeconds: refresh } : {}) }));
  });

  app.get('/reviews', async (c) => send(c, page('Reviews', reviewsBody(await registry.pendingReviews()), { csrf: csrfOf(c), refreshSeconds: refresh * 5 })));

  registerReviewRoutes(app, { registry, blobs: options.blobs, engineFor, csrfOf });

  app.notFound((c) => send(c, messagePage('Not found', 'There is no page here.', { back: { href: '/', label: 'All runs' } }), 404));
  app.onError((e, c) => {
    // the visitor gets a reference, never the error's text (it can carry database or engine internals)
    const ref = randomBytes(6).toString('hex');
    logError(`${c.req.method} ${new URL(c.req.url).pathname} failed (ref ${ref}): ${e.stack ?? e.message}`);
    return send(
      c,
      messagePage('Something went wrong', `The dashboard could not show this page (reference ${ref}).`, { back: { href: '/', label: 'All runs' } }),
      500,
    );
  });

  return app;
}

/** The connecting peer's address (not X-Forwarded-For, which a client can forge); 'unknown' outside a Node server. */
function clientAddress(c: Context<DashboardEnv>): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
