import type { TokenUsage } from '../ports/model.js';

/**
 * A grant to make one model call. Exactly one of its three ends is called once the call is over;
 * later calls are ignored.
 */
export interface ModelPermit {
  /**
   * The call succeeded: its actual usage replaces the estimate in the window, and the limit grows
   * back. With `timing.latencyMs` (the provider's own time on the call, such as Bedrock's
   * `metrics.latencyMs`), the window counts the call from when the provider received it (its end
   * less that time) instead of from the grant, as the provider does: a call that waited in the
   * client (a connection pool, a busy event loop) leaves the window no earlier than the provider's.
   */
  settle(actual: TokenUsage, timing?: SettleTiming): void;
  /** The provider throttled the call: it counts nothing in the window (the provider refused it) and the limit drops. */
  throttled(): void;
  /** The call failed otherwise: its estimated input stays counted (the provider may have read it), its output is returned. */
  failed(): void;
}

/**
 * The model-quota port: every `ctx.model` call of every stage acquires a permit first and ends
 * it after (core's `invokeStage` does both; stage code does not change). Implementations share
 * the budget across every run of an engine: `createMemoryModelLimiter` in one process,
 * `createRedisModelLimiter` (`@baton/adapter-bullmq`) across every worker of a deployment.
 *
 * @example
 * ```ts
 * const permit = await limiter.acquire('my-model', { inputTokens: 800, outputTokens: 1024 });
 * try {
 *   const res = await model.complete(request);
 *   permit.settle(res.usage);
 * } catch (e) {
 *   if (isStageError(e) && e.code === 'ThrottlingException') permit.throttled(); else permit.failed();
 *   throw e;
 * }
 * ```
 */
export interface ModelLimiter {
  /**
   * Waits until the model's budget can serve `estimate`, then reserves it. Models without a
   * budget get a permit at once. Rejects only when `signal` aborts. Callers of different runs
   * (`runId`) are served in turn, so that concurrent runs share a model's budget fairly.
   */
  acquire(modelId: string, estimate: TokenUsage, options?: AcquireOptions): Promise<ModelPermit>;
  /**
   * How many times in a row one model call may be throttled, each time waiting for budget again
   * (neither an attempt nor timed against the stage), before it fails with `ModelQuotaExhausted`.
   * @default DEFAULT_THROTTLE_RETRIES
   */
  readonly throttleRetries?: number;
}

/** What {@link ModelPermit.settle} is told of the call's timing. */
export interface SettleTiming {
  /** The provider's own time on the call (from receiving it to answering), ms. */
  latencyMs?: number;
}

/** What {@link ModelLimiter.acquire} is told besides the estimate. */
export interface AcquireOptions {
  /** Ends the wait (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
  /** The run the call is for: waiting callers are served round-robin across runs. */
  runId?: string;
}

/**
 * Throttles in a row of one model call that `invokeStage` absorbs (the call waits for budget again
 * and is sent again) before the call fails with `ModelQuotaExhausted`: a model that throttles for
 * ever fails its section in bounded time instead of hanging it.
 */
export const DEFAULT_THROTTLE_RETRIES = 8;

/**
 * Adaptive limits: AIMD with a remembered ceiling. A throttle cuts the limit (the factor applied to
 * the declared budget) by `decrease`, once per round, and the factor it cut from becomes the
 * ceiling: where the provider's real quota was last found. Success regrows the limit fast
 * (`recoverPerWindow`) up to `plateau` × the ceiling, then slowly (`increasePerWindow`) past it,
 * probing for a quota raised again; a factor past the ceiling lifts it. Rates are per window's
 * worth of successful traffic (a call using 1% of the budget regains 1% of the rate), so the maths
 * needs no clock.
 */
export interface AdaptiveOptions {
  /** Factor applied to the limit on a throttle. @default 0.7 */
  decrease?: number;
  /** Share of the declared budget regained per window's worth of traffic above the plateau (probing). @default 0.03 */
  increasePerWindow?: number;
  /** Share of the declared budget regained per window's worth of traffic below the plateau. @default 1 */
  recoverPerWindow?: number;
  /** Share of the ceiling up to which the limit recovers fast. @default 0.95 */
  plateau?: number;
  /** The limit never drops below this share of the budget. @default 0.05 */
  minFactor?: number;
}

/** {@link AdaptiveOptions} with their defaults. */
export const ADAPTIVE_DEFAULTS: Required<AdaptiveOptions> = { decrease: 0.7, increasePerWindow: 0.03, recoverPerWindow: 1, plateau: 0.95, minFactor: 0.05 };

/**
 * Margin added to the window before an old call's budget is reused, so that a provider whose
 * window starts when the request arrives (a little after the permit) sees the same window: 2%.
 * A call whose arrival is known (settled with the provider's latency) needs none: see
 * {@link receivedEntryAt}.
 */
export const WINDOW_MARGIN_SHARE = 0.02;

/**
 * Where a limiter's sliding window (span `windowMs × (1 + WINDOW_MARGIN_SHARE)`) places a call
 * settled at `settledAt` with the provider's own time on it, `latencyMs`, so that the call leaves
 * the window exactly one window after the provider received it (its end less that time, never
 * before the grant). The margin stands for the unknown delay between a grant and the provider
 * receiving the call; once the provider's time is known the delay is known, and keeping the margin
 * would hold the call's budget 2% of a window longer than the provider does, at every window.
 *
 * @example
 * ```ts
 * // granted at 0, answered at 400 after 100 ms at the provider, window 1000 ms: leaves at 1300
 * receivedEntryAt(0, 400, 100, 1000); // 280 (+ span 1020 = 1300)
 * ```
 */
export function receivedEntryAt(grantedAt: number, settledAt: number, latencyMs: number, windowMs: number): number {
  return Math.max(grantedAt, settledAt - latencyMs) - windowMs * WINDOW_MARGIN_SHARE;
}
