import type { Retrier } from './definition.js';

/** What the mirror decided for a failed attempt. */
export type RetryDecision = { retry: false } | { retry: true; retrierIndex: number; delayMs: number };

interface Tracked {
  counts: number[];
  /** Retries so far: `$$.State.RetryCount` of the next attempt. */
  retries: number;
  /** A retry was decided and its attempt has not started yet. */
  pending: boolean;
}

/**
 * Mirrors aws-local-stepfunctions' retry decisions per state execution, so that the endpoint
 * knows `$$.State.RetryCount` (the interpreter has none) and can hand the interpreter the delay of
 * each coming retry (its `retryIntervalOverrides`), scaled by `timeScale`. Rules as ASL's and the
 * interpreter's: the first retrier whose ErrorEquals names the error (or `States.ALL`, or
 * `States.TaskFailed` for anything but `States.Timeout`) decides; once its MaxAttempts (default 3)
 * are used the error is not retried; delay = IntervalSeconds (1) × BackoffRate (2)^n, capped by
 * MaxDelaySeconds, FULL jitter drawing uniformly below it.
 *
 * A state execution is identified by its state name and its effective input (after Parameters):
 * retries of one execution see the same input. Two Map iterations with the same input at the same
 * time share a count.
 */
export class RetryMirror {
  private readonly tracked = new Map<string, Tracked>();

  constructor(private readonly timeScale: number) {}

  /** The retry count of the attempt starting now for `key`. */
  begin(key: string, retriers: Retrier[]): number {
    const t = this.tracked.get(key);
    if (t?.pending) {
      t.pending = false;
      return t.retries;
    }
    this.tracked.set(key, { counts: retriers.map(() => 0), retries: 0, pending: false });
    return 0;
  }

  /** Decides the retry of a failed attempt (and forgets the execution when none follows). */
  fail(key: string, retriers: Retrier[], error: string, retryable = true): RetryDecision {
    const t = this.tracked.get(key);
    if (!t) return { retry: false };
    const i = retryable
      ? retriers.findIndex((r) => r.ErrorEquals.some((e) => e === error || e === 'States.ALL' || (e === 'States.TaskFailed' && error !== 'States.Timeout')))
      : -1;
    const r = retriers[i];
    if (!r || t.counts[i]! >= (r.MaxAttempts ?? 3)) {
      this.tracked.delete(key);
      return { retry: false };
    }
    let seconds = (r.IntervalSeconds ?? 1) * Math.pow(r.BackoffRate ?? 2, t.counts[i]!);
    if (r.MaxDelaySeconds !== undefined && r.MaxDelaySeconds > 0) seconds = Math.min(seconds, r.MaxDelaySeconds);
    if (r.JitterStrategy === 'FULL') seconds = Math.random() * seconds;
    t.counts[i]!++;
    t.retries++;
    t.pending = true;
    return { retry: true, retrierIndex: i, delayMs: seconds * 1000 * this.timeScale };
  }

  /** Forgets a state execution that succeeded. */
  end(key: string): void {
    this.tracked.delete(key);
  }
}
