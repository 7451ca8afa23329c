import type { TokenUsage } from '../ports/model.js';
import type { ModelBudget } from './budget.js';
import type { AdaptiveOptions } from './limiter.js';

/**
 * The adaptive part of a model's limit, as every limiter stores it (in memory, in Redis, in
 * DynamoDB, in PostgreSQL) and computes it with the functions below, so that every engine adapts
 * alike (see {@link AdaptiveOptions} for the algorithm).
 */
export interface AdaptiveState {
  /** Share of the declared budget in force (1 = all of it). */
  factor: number;
  /** The factor at the last throttle: where the provider's quota was last found (1 before any). */
  ceiling: number;
  /** Counts cuts; a permit remembers the epoch it was granted in, so one round of calls cuts once. */
  epoch: number;
}

/** The state of a model no call has been throttled on yet. */
export const INITIAL_ADAPTIVE_STATE: Readonly<AdaptiveState> = { factor: 1, ceiling: 1, epoch: 0 };

/**
 * The state after a successful call that used `actual`: the factor regrows by the call's share of
 * the budget times `recoverPerWindow` below `plateau` × the ceiling, `increasePerWindow` above it;
 * a factor past the ceiling lifts the ceiling.
 *
 * @example
 * ```ts
 * const next = adaptAfterSuccess(state, budget, { inputTokens: 300, outputTokens: 250 }, ADAPTIVE_DEFAULTS);
 * ```
 */
export function adaptAfterSuccess(state: AdaptiveState, budget: ModelBudget, actual: TokenUsage, adaptive: Required<AdaptiveOptions>): AdaptiveState {
  const factor = factorAfterSuccess(state.factor, budget, actual, adaptive, state.ceiling);
  return { factor, ceiling: Math.max(state.ceiling, factor), epoch: state.epoch };
}

/**
 * The state after a throttle of a call granted in `permitEpoch`: one cut per round, so a throttle
 * of a call granted before the last cut (sent under the old limit) changes nothing. The factor cut
 * from becomes the ceiling.
 *
 * @example
 * ```ts
 * const next = adaptAfterThrottle(state, permit.epoch, ADAPTIVE_DEFAULTS);
 * ```
 */
export function adaptAfterThrottle(state: AdaptiveState, permitEpoch: number, adaptive: Required<AdaptiveOptions>): AdaptiveState {
  if (permitEpoch !== state.epoch) return state;
  return { factor: factorAfterThrottle(state.factor, adaptive), ceiling: state.factor, epoch: state.epoch + 1 };
}

/**
 * The factor after a successful call: fast regrowth (`recoverPerWindow`) below `plateau` ×
 * `ceiling`, slow probing (`increasePerWindow`) above, never above 1. Each step is the call's share
 * of the declared budget times the rate. A limiter that keeps no ceiling passes none (1).
 */
export function factorAfterSuccess(factor: number, budget: ModelBudget, actual: TokenUsage, adaptive: Required<AdaptiveOptions>, ceiling = 1): number {
  const share = shareOfBudget(budget, actual);
  const knee = Math.min(1, adaptive.plateau * ceiling);
  if (factor < knee) return Math.min(knee, factor + adaptive.recoverPerWindow * share);
  return Math.min(1, factor + adaptive.increasePerWindow * share);
}

/** The factor after a throttle (multiplicative decrease), never below `minFactor`. */
export function factorAfterThrottle(factor: number, adaptive: Required<AdaptiveOptions>): number {
  return Math.max(adaptive.minFactor, factor * adaptive.decrease);
}

/**
 * The share of the declared budget one call used, along the budget's tightest dimension
 * (requests, tokens, input or output tokens; `1 / maxInFlight` for a budget of calls in flight
 * only): what a success regrows the factor by.
 */
export function shareOfBudget(budget: ModelBudget, actual: TokenUsage): number {
  const amounts: [number | undefined, number][] = [
    [budget.requestsPerMinute, 1],
    [budget.tokensPerMinute, actual.inputTokens + actual.outputTokens],
    [budget.inputTokensPerMinute, actual.inputTokens],
    [budget.outputTokensPerMinute, actual.outputTokens],
  ];
  let share = 0;
  for (const [declared, amount] of amounts) if (declared) share = Math.max(share, amount / declared);
  if (share === 0 && budget.maxInFlight) share = 1 / budget.maxInFlight;
  return share;
}
