import { timingSafeEqual } from 'node:crypto';

/** Name of the session cookie set after login. */
export const SESSION_COOKIE = 'baton_session';

/** Constant-time string comparison. */
export function sameSecret(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const BASE = 'http://dashboard.invalid';

/**
 * A same-origin path to go back to after login, or `/`. The value is resolved as a browser would
 * (which drops tabs and newlines and reads `\` as `/`) and only a path on this dashboard is kept:
 * `//evil.example`, `/\evil.example`, `/\t/evil.example`, `https://evil.example` all give `/`.
 */
export function safeNext(next: string | undefined): string {
  if (!next || !next.startsWith('/') || /[\\\u0000-\u001f\u007f]/.test(next)) return '/';
  let url: URL;
  try {
    url = new URL(next, BASE);
  } catch {
    return '/';
  }
  if (url.origin !== BASE || url.pathname.startsWith('//')) return '/';
  return url.pathname + url.search + url.hash;
}

/** Whether a hostname to bind only accepts connections from this machine. */
export function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || h === '::ffff:127.0.0.1';
}

/**
 * Whether a run id or gate taken from a URL can be looked up at all: 1-512 characters, no control
 * characters (a NUL makes PostgreSQL fail with its own error text), no broken UTF-16. Anything
 * else is simply not found.
 */
export function isLookupId(id: string): boolean {
  return id.length > 0 && id.length <= 512 && !/[\u0000-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(id);
}
