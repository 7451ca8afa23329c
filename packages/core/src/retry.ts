import { ALL_ERRORS, NEVER_RETRIED, defaultRetryable } from './errors.js';

/**
 * One retrier, with exactly the semantics of an Amazon States Language `Retry` entry.
 *
 * @example
 * ```ts
 * const throttling: RetryPolicy = {
 *   errors: ['ThrottlingException'], intervalMs: 2000, backoffRate: 2, maxAttempts: 5,
 *   jitter: 'FULL', maxDelayMs: 60_000,
 * };
 * ```
 */
export interface RetryPolicy {
  /** Error codes this retrier handles; `States.ALL` matches any retryable code. */
  errors: string[];
  /** Delay before the first retry. @default 1000 */
  intervalMs?: number;
  /** Multiplier applied to the delay for each further retry. @default 2 */
  backoffRate?: number;
  /** Retries after the first attempt (ASL `MaxAttempts`); 0 = never retry. @default 3 */
  maxAttempts?: number;
  /** Upper bound of any one delay (ASL `MaxDelaySeconds`). @default no cap */
  maxDelayMs?: number;
  /** `FULL` draws each delay uniformly from [0, delay). @default 'NONE' */
  jitter?: 'FULL' | 'NONE';
}

/** A source of uniform numbers in [0, 1). Engines pass a seeded one so that delays replay. */
export type RandomSource = () => number;

/** A retry decision: wait `delayMs` and try again, or give up. */
export type RetryDecision = { retry: true; delayMs: number; retrierIndex: number; retryNumber: number } | { retry: false; retrierIndex: number | null };

/** The default values ASL applies to an unspecified retrier field. */
export const RETRY_DEFAULTS = { intervalMs: 1000, backoffRate: 2, maxAttempts: 3 } as const;

/**
 * The index of the first retrier that matches `code`, as ASL evaluates retriers (in order).
 * A code in {@link NEVER_RETRIED} matches none; `States.ALL` matches only retryable errors, so a
 * `ValidationFailed` goes to its catch (repair) instead of being retried blindly.
 */
export function matchRetrier(policies: readonly RetryPolicy[], code: string, retryable = defaultRetryable(code)): number | null {
  if (NEVER_RETRIED.includes(code)) return null;
  for (let i = 0; i < policies.length; i++) {
    const errors = policies[i]!.errors;
    if (errors.includes(code)) return i;
    if (errors.includes(ALL_ERRORS) && retryable) return i;
  }
  return null;
}

/**
 * The un-jittered delay before retry number `retryNumber` (1-based):
 * `min(interval × rate^(n-1), maxDelay)`.
 */
export function baseDelayMs(policy: RetryPolicy, retryNumber: number): number {
  const interval = policy.intervalMs ?? RETRY_DEFAULTS.intervalMs;
  const rate = policy.backoffRate ?? RETRY_DEFAULTS.backoffRate;
  const raw = interval * Math.pow(rate, retryNumber - 1);
  return policy.maxDelayMs === undefined ? raw : Math.min(raw, policy.maxDelayMs);
}

/** The delay actually slept before retry `retryNumber`, jitter applied with `random`. */
export function retryDelayMs(policy: RetryPolicy, retryNumber: number, random: RandomSource): number {
  const base = baseDelayMs(policy, retryNumber);
  return policy.jitter === 'FULL' ? Math.floor(random() * base) : base;
}

/**
 * Decides whether a failure with `code` is retried. `retriesSoFar[i]` is how many retries
 * retrier `i` has already granted for this step (each retrier counts on its own, as in ASL).
 * A matched retrier whose count is exhausted ends the retries; later retriers are not consulted.
 */
export function decideRetry(
  policies: readonly RetryPolicy[],
  code: string,
  retriesSoFar: readonly number[],
  random: RandomSource,
  retryable = defaultRetryable(code),
): RetryDecision {
  const index = matchRetrier(policies, code, retryable);
  if (index === null) return { retry: false, retrierIndex: null };
  const policy = policies[index]!;
  const done = retriesSoFar[index] ?? 0;
  if (done >= (policy.maxAttempts ?? RETRY_DEFAULTS.maxAttempts)) return { retry: false, retrierIndex: index };
  const retryNumber = done + 1;
  return { retry: true, delayMs: retryDelayMs(policy, retryNumber, random), retrierIndex: index, retryNumber };
}

/** Upper bound of the delay before retry `retryNumber`: what a FULL-jitter draw stays below. */
export function maxDelayBoundMs(policy: RetryPolicy, retryNumber: number): number {
  return baseDelayMs(policy, retryNumber);
}

/**
 * A small seeded pseudo-random source (mulberry32). Deterministic for a given seed, so a
 * replayed run draws the same jitter.
 */
export function seededRandom(seed: number | string): RandomSource {
  let a = typeof seed === 'number' ? seed >>> 0 : hashString(seed);
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a hash of a string, used to seed {@link seededRandom} from a run id and step path. */
export function hashString(value: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    h ^= value.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
