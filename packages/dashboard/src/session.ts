import { randomBytes } from 'node:crypto';

/** A logged-in browser: the cookie value names it, the CSRF value is bound to it. */
export interface DashboardSession {
  /** Random, 256 bits, base64url: the session cookie's value. */
  readonly id: string;
  /** Random, 256 bits: the hidden `csrf` field of every form this session is shown. */
  readonly csrf: string;
  /** Epoch milliseconds after which the session no longer authenticates. */
  readonly expiresAt: number;
}

/** Options of {@link createSessionStore}. */
export interface SessionStoreOptions {
  /** How long a login lasts. @default 8 hours */
  ttlMs?: number;
  /** Most sessions kept at once; the oldest goes first. @default 10000 */
  maxSessions?: number;
  /** @default Date.now */
  now?: () => number;
}

/** Server-side sessions of the dashboard: logout and expiry end a session for good. */
export interface SessionStore {
  /** Starts a session (a login). */
  create(): DashboardSession;
  /** The live session a cookie value names, or undefined (unknown, revoked or expired). */
  get(id: string | undefined): DashboardSession | undefined;
  /** Ends a session: its cookie stops working at once. */
  revoke(id: string | undefined): void;
}

/** Default session lifetime. */
export const DEFAULT_SESSION_TTL_MS = 8 * 60 * 60 * 1000;

/**
 * An in-memory {@link SessionStore}. Sessions are kept by the dashboard process only, so a
 * restart logs everyone out (the safe direction); cookie values are never derived from the
 * dashboard token, so two logins never share one and an old cookie cannot be recomputed.
 *
 * @example
 * ```ts
 * const sessions = createSessionStore({ ttlMs: 60 * 60 * 1000 });
 * const s = sessions.create();
 * sessions.get(s.id); // the session
 * sessions.revoke(s.id);
 * sessions.get(s.id); // undefined
 * ```
 */
export function createSessionStore(options: SessionStoreOptions = {}): SessionStore {
  const ttl = options.ttlMs ?? DEFAULT_SESSION_TTL_MS;
  const max = options.maxSessions ?? 10_000;
  const now = options.now ?? Date.now;
  // insertion order is creation order: the first entries are the oldest
  const sessions = new Map<string, DashboardSession>();
  const prune = (): void => {
    const t = now();
    for (const [id, s] of sessions) if (s.expiresAt <= t) sessions.delete(id);
    while (sessions.size >= max) sessions.delete(sessions.keys().next().value!);
  };
  return {
    create() {
      prune();
      const session = { id: randomBytes(32).toString('base64url'), csrf: randomBytes(32).toString('base64url'), expiresAt: now() + ttl };
      sessions.set(session.id, session);
      return session;
    },
    get(id) {
      if (!id) return undefined;
      const session = sessions.get(id);
      if (!session) return undefined;
      if (session.expiresAt <= now()) {
        sessions.delete(id);
        return undefined;
      }
      return session;
    },
    revoke(id) {
      if (id) sessions.delete(id);
    },
  };
}
