import type { TokenUsage } from '../ports/model.js';
import { createFairQueue } from './fair-queue.js';
import type { AcquireOptions } from './limiter.js';

/** A caller waiting for a permit of a limiter whose budget lives in a shared store. */
export interface StoreWaiter<TPermit> {
  estimate: TokenUsage;
  resolve: (permit: TPermit) => void;
  reject: (error: unknown) => void;
  signal?: AbortSignal;
  /** The run the call is for: callers are served round-robin across runs. */
  runId?: string;
}

/** The callers of one model in one process, round-robin across runs, first come, first served within one. */
export interface StoreQueue<TPermit> {
  add(waiter: StoreWaiter<TPermit>): void;
  /** Waits in line for a permit for `estimate`, with the caller's signal and run (`ModelLimiter.acquire`'s options). */
  acquire(estimate: TokenUsage, options?: AcquireOptions): Promise<TPermit>;
  /** Ends the head's sleep: a permit of this process ended, or a waiter gave up. */
  wake(): void;
}

/**
 * The per-process queue of a limiter whose budget lives in a shared store (Redis, DynamoDB, a
 * database): only the head asks the store. `step` tries the head once: it either answers the
 * waiter itself (grant, fallback or error: `{ done: true }`, and the head leaves the queue) or
 * says how long to sleep before asking again (a permit of this process ending, or the head's
 * signal aborting, wakes it sooner). An aborted head is rejected with its signal's reason.
 *
 * @example
 * ```ts
 * const queue = createStoreQueue<ModelPermit>(async (head) => {
 *   const grant = await askStore(head.estimate);
 *   if (!grant) return { sleepMs: 100 };
 *   head.resolve(grant);
 *   return { done: true };
 * });
 * ```
 */
export function createStoreQueue<TPermit>(step: (head: StoreWaiter<TPermit>) => Promise<{ done: true } | { sleepMs: number }>): StoreQueue<TPermit> {
  const waiters = createFairQueue<StoreWaiter<TPermit>>();
  let running = false;
  let wakeUp: (() => void) | undefined;
  const nap = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        wakeUp = undefined;
        resolve();
      }
      wakeUp = done;
    });
  const loop = async (): Promise<void> => {
    running = true;
    try {
      for (let head = waiters.peek(); head; head = waiters.peek()) {
        if (head.signal?.aborted) {
          waiters.shift();
          head.reject(head.signal.reason);
          continue;
        }
        const res = await step(head);
        // the head's turn ends with its answer (the turn passes to the next run)
        if ('done' in res) {
          if (waiters.peek() === head) waiters.shift();
          else waiters.remove(head);
        } else await nap(res.sleepMs);
      }
    } finally {
      running = false;
    }
  };
  const add = (w: StoreWaiter<TPermit>): void => {
    waiters.push(w.runId, w);
    w.signal?.addEventListener('abort', () => wakeUp?.(), { once: true });
    if (!running) void loop();
  };
  return {
    add,
    acquire: (estimate, options) =>
      new Promise<TPermit>((resolve, reject) => {
        add({ estimate, resolve, reject, ...(options?.signal ? { signal: options.signal } : {}), ...(options?.runId ? { runId: options.runId } : {}) });
      }),
    wake: () => wakeUp?.(),
  };
}
