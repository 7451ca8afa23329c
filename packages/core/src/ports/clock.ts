/** Time as engines and stages see it. Tests pass a {@link TestClock} to control it. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`, or rejects with an AbortError when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The wall clock. */
export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      const timer = setTimeout(
        () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        Math.max(0, ms),
      );
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(abortError(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/** A clock that only moves when told to: `advance(ms)` fires every sleep that falls due. */
export interface TestClock extends Clock {
  advance(ms: number): Promise<void>;
  /** Sleeps not yet due. */
  readonly pending: number;
}

/** Creates a {@link TestClock} starting at `start` (default 0). */
export function createTestClock(start = 0): TestClock {
  let now = start;
  const sleepers: { at: number; resolve: () => void }[] = [];
  return {
    now: () => now,
    get pending() {
      return sleepers.length;
    },
    sleep(ms, signal) {
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(abortError(signal));
        const onAbort = (): void => {
          // a sleep that already fired is no longer listed: never splice(-1) another sleeper away
          const index = sleepers.indexOf(entry);
          if (index >= 0) sleepers.splice(index, 1);
          reject(abortError(signal!));
        };
        const entry = {
          at: now + Math.max(0, ms),
          resolve: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        sleepers.push(entry);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    async advance(ms) {
      const target = now + ms;
      for (;;) {
        sleepers.sort((a, b) => a.at - b.at);
        const next = sleepers[0];
        if (!next || next.at > target) break;
        sleepers.shift();
        now = next.at;
        next.resolve();
        await new Promise((r) => setImmediate(r));
      }
      now = target;
    },
  };
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const e = new Error('aborted');
  e.name = 'AbortError';
  return e;
}
