import { realClock, type Clock } from '../ports/clock.js';
import type { TokenUsage } from '../ports/model.js';
import { adaptAfterSuccess, adaptAfterThrottle, INITIAL_ADAPTIVE_STATE, type AdaptiveState } from './adaptive.js';
import { DEFAULT_BUDGET_WINDOW_MS, validateBudgets, type ModelBudget, type ModelBudgets } from './budget.js';
import { createFairQueue, type FairQueue } from './fair-queue.js';
import { ADAPTIVE_DEFAULTS, receivedEntryAt, WINDOW_MARGIN_SHARE, type AdaptiveOptions, type ModelLimiter, type ModelPermit } from './limiter.js';

export {
  adaptAfterSuccess,
  adaptAfterThrottle,
  factorAfterSuccess,
  factorAfterThrottle,
  INITIAL_ADAPTIVE_STATE,
  shareOfBudget,
  type AdaptiveState,
} from './adaptive.js';

/** Options of {@link createMemoryModelLimiter}. */
export interface MemoryModelLimiterOptions {
  budgets: ModelBudgets;
  /** Adaptive tuning, or `false` to hold the declared budget whatever the provider says. @default ADAPTIVE_DEFAULTS */
  adaptive?: AdaptiveOptions | false;
  /** See {@link ModelLimiter.throttleRetries}. @default DEFAULT_THROTTLE_RETRIES */
  throttleRetries?: number;
  /** Time of the window and of the waits (tests pass a `TestClock`). @default realClock */
  clock?: Clock;
}

/** What a limiter holds for one model now (benches and tests read it). */
export interface LimiterSnapshot {
  /** Share of the declared budget in force (1 = all of it; lower after throttles). */
  factor: number;
  /** The factor at the last throttle (1 before any). */
  ceiling: number;
  inFlight: number;
  /** Callers waiting for budget. */
  waiting: number;
  /** Usage counted in the current window. */
  window: { requests: number; inputTokens: number; outputTokens: number };
}

/** A {@link ModelLimiter} held in this process's memory (the local engine's). */
export interface MemoryModelLimiter extends ModelLimiter {
  snapshot(modelId: string): LimiterSnapshot | undefined;
}

const noopPermit: ModelPermit = { settle() {}, throttled() {}, failed() {} };

/**
 * A limiter in one process's memory: a sliding window per model of requests and tokens, a count
 * in flight, and waiting callers served round-robin across runs, first come, first served within
 * a run (a large request is not starved by small ones behind it). Budget free when a caller asks
 * is granted at the end of that turn of the event loop, so callers of two runs that ask in the
 * same turn (two runs started together) share it in turn too, rather than the first run's
 * callers taking all of it. With `adaptive` (the default),
 * the limit adapts to throttles as {@link AdaptiveOptions} describes.
 *
 * @example
 * ```ts
 * const limiter = createMemoryModelLimiter({ budgets: { 'my-model': { requestsPerMinute: 60, tokensPerMinute: 90_000 } } });
 * const engine = createLocalEngine({ pipelines: [report], model, limiter });
 * ```
 */
export function createMemoryModelLimiter(options: MemoryModelLimiterOptions): MemoryModelLimiter {
  validateBudgets(options.budgets);
  const adaptive = options.adaptive === false ? undefined : { ...ADAPTIVE_DEFAULTS, ...options.adaptive };
  const clock = options.clock ?? realClock;
  const models = new Map<string, ModelState>();
  const stateOf = (modelId: string): ModelState | undefined => {
    const budget = options.budgets[modelId];
    if (!budget) return undefined;
    let s = models.get(modelId);
    if (!s) {
      const windowMs = budget.windowMs ?? DEFAULT_BUDGET_WINDOW_MS;
      s = {
        budget,
        windowMs,
        span: windowMs * (1 + WINDOW_MARGIN_SHARE),
        entries: [],
        sum: { requests: 0, input: 0, output: 0 },
        inFlight: 0,
        factor: 1,
        adaptive: { ...INITIAL_ADAPTIVE_STATE },
        queue: createFairQueue(),
      };
      models.set(modelId, s);
    }
    return s;
  };
  const adapt = (s: ModelState, next: AdaptiveState): void => {
    s.adaptive = next;
    s.factor = next.factor;
  };

  const grant = (s: ModelState, estimate: TokenUsage): ModelPermit => {
    const entry: WindowEntry = { at: clock.now(), requests: 1, input: estimate.inputTokens, output: estimate.outputTokens, expired: false };
    s.entries.push(entry);
    add(s.sum, entry, 1);
    s.inFlight += 1;
    const epoch = s.adaptive.epoch;
    let ended = false;
    const end = (requests: number, input: number, output: number): boolean => {
      if (ended) return false;
      ended = true;
      if (!entry.expired) {
        s.sum.requests += requests - entry.requests;
        s.sum.input += input - entry.input;
        s.sum.output += output - entry.output;
      }
      entry.requests = requests;
      entry.input = input;
      entry.output = output;
      s.inFlight -= 1;
      return true;
    };
    return {
      settle(actual, timing) {
        if (!end(1, actual.inputTokens, actual.outputTokens)) return;
        if (timing?.latencyMs !== undefined && !entry.expired) restamp(s.entries, entry, receivedEntryAt(entry.at, clock.now(), timing.latencyMs, s.windowMs));
        if (adaptive) adapt(s, adaptAfterSuccess(s.adaptive, s.budget, actual, adaptive));
        pump(s);
      },
      throttled() {
        if (!end(0, 0, 0)) return;
        if (adaptive) adapt(s, adaptAfterThrottle(s.adaptive, epoch, adaptive));
        pump(s);
      },
      failed() {
        if (end(1, entry.input, 0)) pump(s);
      },
    };
  };

  const pump = (s: ModelState): void => {
    s.timer?.abort();
    s.timer = undefined;
    for (let head = s.queue.peek(); head; head = s.queue.peek()) {
      const wait = budgetWaitMs(s, head.estimate, clock.now());
      if (wait > 0) {
        if (Number.isFinite(wait)) {
          const timer = (s.timer = new AbortController());
          clock.sleep(Math.ceil(wait), timer.signal).then(
            () => pump(s),
            () => undefined,
          );
        }
        return;
      }
      s.queue.shift();
      head.signal?.removeEventListener('abort', head.onAbort);
      head.resolve(grant(s, head.estimate));
    }
  };

  return {
    ...(options.throttleRetries === undefined ? {} : { throttleRetries: options.throttleRetries }),
    async acquire(modelId, estimate, opts) {
      const s = stateOf(modelId);
      if (!s) return noopPermit;
      opts?.signal?.throwIfAborted();
      return new Promise<ModelPermit>((resolve, reject) => {
        const waiter: Waiter = {
          estimate,
          resolve,
          ...(opts?.signal ? { signal: opts.signal } : {}),
          onAbort: () => {
            s.queue.remove(waiter);
            reject(opts?.signal?.reason);
            pump(s);
          },
        };
        opts?.signal?.addEventListener('abort', waiter.onAbort, { once: true });
        s.queue.push(opts?.runId, waiter);
        // Budget free now is handed out at the end of this turn of the event loop, not to whoever
        // asked first in it: two runs started together both have their callers in line by then
        // and share it in turn (as a store's limiter does, whose callers line up while it asks the
        // store). A head that must wait sets its timer now.
        if (s.turnPump) return;
        if (budgetWaitMs(s, s.queue.peek()!.estimate, clock.now()) > 0) {
          pump(s);
          return;
        }
        s.turnPump = true;
        endOfTurn(() => {
          s.turnPump = false;
          pump(s);
        });
      });
    },
    snapshot(modelId) {
      const s = models.get(modelId);
      if (!s) return undefined;
      expire(s, clock.now());
      return {
        factor: s.factor,
        ceiling: s.adaptive.ceiling,
        inFlight: s.inFlight,
        waiting: s.queue.size,
        window: { requests: s.sum.requests, inputTokens: s.sum.input, outputTokens: s.sum.output },
      };
    },
  };
}

/** Requests and tokens counted in a window, or by one call. */
export interface WindowUse {
  requests: number;
  input: number;
  output: number;
}

/** One granted call in a sliding window: when it was granted and what it counts for. */
export interface WindowEntry extends WindowUse {
  at: number;
  expired: boolean;
}

/**
 * One model's sliding window as a limiter holds it: the maths below ({@link budgetWaitMs}) runs on
 * it, whether the limiter keeps it in memory or rebuilds it from a shared store each time.
 */
export interface ModelWindow {
  budget: ModelBudget;
  /** The window plus its margin (`windowMs × (1 + WINDOW_MARGIN_SHARE)`). */
  span: number;
  /** Oldest first. */
  entries: WindowEntry[];
  sum: WindowUse;
  inFlight: number;
  /** Share of the declared budget in force (AIMD). */
  factor: number;
}

interface Waiter {
  estimate: TokenUsage;
  resolve: (p: ModelPermit) => void;
  signal?: AbortSignal;
  onAbort: () => void;
}

interface ModelState extends ModelWindow {
  /** The budget's window, without the margin. */
  windowMs: number;
  adaptive: AdaptiveState;
  queue: FairQueue<Waiter>;
  /** Aborts the sleep until the head may fit. */
  timer?: AbortController | undefined;
  /** A pump is due at the end of this turn of the event loop (callers of the turn line up first). */
  turnPump?: boolean;
}

/** Runs `f` once the current turn of the event loop (its callbacks and their promises) is done. */
const endOfTurn: (f: () => void) => void = typeof setImmediate === 'function' ? (f) => void setImmediate(f) : (f) => void setTimeout(f, 0);

function add(sum: WindowUse, u: WindowUse, sign: 1 | -1): void {
  sum.requests += sign * u.requests;
  sum.input += sign * u.input;
  sum.output += sign * u.output;
}

/** Moves an entry to another time (see {@link receivedEntryAt}), keeping the window in time order. */
function restamp(entries: WindowEntry[], entry: WindowEntry, at: number): void {
  const i = entries.lastIndexOf(entry);
  if (i < 0 || at === entry.at) return;
  entries.splice(i, 1);
  entry.at = at;
  let j = entries.length;
  while (j > 0 && entries[j - 1]!.at > at) j--;
  entries.splice(j, 0, entry);
}

function expire(s: ModelWindow, now: number): void {
  while (s.entries.length > 0 && s.entries[0]!.at + s.span <= now) {
    const e = s.entries.shift()!;
    e.expired = true;
    add(s.sum, e, -1);
  }
}

/** The dimensions of a budget as (limit, amount of a use) pairs. */
function dimensions(b: ModelBudget): [number, (u: WindowUse) => number][] {
  const out: [number, (u: WindowUse) => number][] = [];
  if (b.requestsPerMinute) out.push([b.requestsPerMinute, (u) => u.requests]);
  if (b.tokensPerMinute) out.push([b.tokensPerMinute, (u) => u.input + u.output]);
  if (b.inputTokensPerMinute) out.push([b.inputTokensPerMinute, (u) => u.input]);
  if (b.outputTokensPerMinute) out.push([b.outputTokensPerMinute, (u) => u.output]);
  return out;
}

/**
 * Milliseconds until `estimate` fits the model's limits (0: now; Infinity: when a call in flight
 * ends). A request larger than a whole window's limit fits an empty window, rather than never.
 * Drops the entries that have left the window first (from `entries` and `sum`).
 */
export function budgetWaitMs(s: ModelWindow, estimate: TokenUsage, now: number): number {
  expire(s, now);
  const max = s.budget.maxInFlight;
  if (max !== undefined && s.inFlight >= Math.max(1, Math.floor(max * s.factor))) return Infinity;
  const want: WindowUse = { requests: 1, input: estimate.inputTokens, output: estimate.outputTokens };
  let wait = 0;
  for (const [declared, amount] of dimensions(s.budget)) {
    const limit = declared * s.factor;
    let used = amount(s.sum);
    if (used === 0 || used + amount(want) <= limit) continue;
    for (const e of s.entries) {
      used -= amount(e);
      if (used <= 0 || used + amount(want) <= limit) {
        wait = Math.max(wait, e.at + s.span - now);
        break;
      }
    }
  }
  return wait;
}
