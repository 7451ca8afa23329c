import { createHmac, timingSafeEqual } from 'node:crypto';

/** Name of the session cookie set after login. */
export const SESSION_COOKIE = 'baton_session';

/** Derives per-purpose secrets from the dashboard token, so the token itself never sits in a cookie or a page. */
export function deriveSecret(token: string, purpose: 'session' | 'csrf'): string {
  return createHmac('sha256', token).update(`baton-dashboard:${purpose}`).digest('base64url');
}

/** Constant-time string comparison. */
export function sameSecret(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A same-origin path to go back to after login, or `/`. Blocks `//evil.example` and `/\evil`. */
export function safeNext(next: string | undefined): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  return next;
}
