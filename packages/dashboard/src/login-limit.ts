/** Options of {@link createLoginLimiter}. */
export interface LoginLimitOptions {
  /** Failed logins allowed per client address within `windowMs`; the next attempt gets 429. @default 5 */
  maxFailures?: number;
  /** The window failures are counted in. @default 60000 */
  windowMs?: number;
  /** Every failed login is answered only after this long, so guesses cannot be fired in a tight loop. @default 500 */
  failureDelayMs?: number;
  /** @default Date.now */
  now?: () => number;
}

/** Counts failed logins per client address. */
export interface LoginLimiter {
  /** Milliseconds the address must wait before trying again, or 0 when it may try now. */
  retryAfterMs(address: string): number;
  /** Records a failed login of the address. */
  failed(address: string): void;
  /** Forgets the address's failures (it logged in). */
  succeeded(address: string): void;
  /** How long a failed login's answer is held back. */
  readonly failureDelayMs: number;
}

/**
 * A sliding-window limit on failed logins per client address: after `maxFailures` wrong tokens
 * within `windowMs`, the address is refused (429, `Retry-After`) until the oldest failure leaves
 * the window, whatever it sends, the right token included.
 *
 * @example
 * ```ts
 * const limiter = createLoginLimiter({ maxFailures: 5, windowMs: 60_000 });
 * if (limiter.retryAfterMs(address) > 0) return tooManyAttempts();
 * ```
 */
export function createLoginLimiter(options: LoginLimitOptions = {}): LoginLimiter {
  const maxFailures = options.maxFailures ?? 5;
  const windowMs = options.windowMs ?? 60_000;
  const now = options.now ?? Date.now;
  const failures = new Map<string, number[]>();
  const recent = (address: string): number[] => {
    const since = now() - windowMs;
    const list = (failures.get(address) ?? []).filter((t) => t > since);
    if (list.length) failures.set(address, list);
    else failures.delete(address);
    return list;
  };
  return {
    failureDelayMs: options.failureDelayMs ?? 500,
    retryAfterMs(address) {
      const list = recent(address);
      if (list.length < maxFailures) return 0;
      return Math.max(1, list[list.length - maxFailures]! + windowMs - now());
    },
    failed(address) {
      // bounded: an address that keeps guessing keeps only what the window needs
      failures.set(address, [...recent(address), now()].slice(-maxFailures));
    },
    succeeded(address) {
      failures.delete(address);
    },
  };
}
