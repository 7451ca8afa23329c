import type { TokenUsage } from '../ports/model.js';

/**
 * A grant to make one model call. Exactly one of its three ends is called once the call is over;
 * later calls are ignored.
 */
export interface ModelPermit {
  /** The call succeeded: its actual usage replaces the estimate in the window, and the limit grows back. */
  settle(actual: TokenUsage): void;
  /** The provider throttled the call: its tokens are returned and the limit drops. */
  throttled(): void;
  /** The call failed otherwise: its estimated input stays counted (the provider may have read it), its output is returned. */
  failed(): void;
}

/**
 * The model-quota port: every `ctx.model` call of every stage acquires a permit first and ends
 * it after (core's `invokeStage` does both; stage code does not change). Implementations share
 * the budget across every run of an engine: `createMemoryModelLimiter` in one process,
 * `createRedisModelLimiter` (@baton/adapter-bullmq) across every worker of a deployment.
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
   * budget get a permit at once. Rejects only when `signal` aborts.
   */
  acquire(modelId: string, estimate: TokenUsage, options?: { signal?: AbortSignal }): Promise<ModelPermit>;
}

/** Adaptive limits (AIMD): how far a throttle cuts the limit and how fast success restores it. */
export interface AdaptiveOptions {
  /** Factor applied to the limit on a throttle. @default 0.7 */
  decrease?: number;
  /** Share of the declared budget regained per window's worth of successful traffic. @default 0.1 */
  increasePerWindow?: number;
  /** The limit never drops below this share of the budget. @default 0.05 */
  minFactor?: number;
}

/** {@link AdaptiveOptions} with their defaults. */
export const ADAPTIVE_DEFAULTS: Required<AdaptiveOptions> = { decrease: 0.7, increasePerWindow: 0.1, minFactor: 0.05 };

/**
 * Margin added to the window before an old call's budget is reused, so that a provider whose
 * window starts when the request arrives (a little after the permit) sees the same window: 2%.
 */
export const WINDOW_MARGIN_SHARE = 0.02;
