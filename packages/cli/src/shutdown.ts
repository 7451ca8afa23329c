/**
 * How long `run`, `worker` and `dashboard` take at most, after SIGINT or SIGTERM, before they exit
 * (issue 21: within 5 s). Closing engines, workers and servers races this budget.
 */
export const STOP_BUDGET_MS = 4000;

/** The signals that stop `run`, `worker` and `dashboard`. */
export type StopSignal = 'SIGINT' | 'SIGTERM';

/**
 * Resolves with the first SIGINT or SIGTERM this process receives. A second signal while the
 * process is stopping exits at once with 128 + its number (an operator pressing Ctrl-C twice).
 *
 * @example
 * ```ts
 * const signal = await Promise.race([stopSignal().promise, worker.running.then(() => undefined)]);
 * ```
 */
export function stopSignal(): { promise: Promise<StopSignal>; dispose(): void } {
  let dispose = (): void => undefined;
  const promise = new Promise<StopSignal>((resolve) => {
    const again = (s: StopSignal): void => process.exit(s === 'SIGINT' ? 130 : 143);
    const first = (s: StopSignal): void => {
      process.removeListener('SIGINT', first);
      process.removeListener('SIGTERM', first);
      process.once('SIGINT', again);
      process.once('SIGTERM', again);
      resolve(s);
    };
    process.on('SIGINT', first);
    process.on('SIGTERM', first);
    dispose = () => {
      process.removeListener('SIGINT', first);
      process.removeListener('SIGTERM', first);
    };
  });
  return { promise, dispose: () => dispose() };
}

/**
 * Runs `close` but gives up after `ms`: resolves `true` when it finished in time, `false` when the
 * budget ran out (the caller exits anyway; the process ends with `process.exit`).
 *
 * @example
 * ```ts
 * const clean = await within(STOP_BUDGET_MS, () => engine.close());
 * ```
 */
export async function within(ms: number, close: () => Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  try {
    return await Promise.race([
      close().then(
        () => true,
        () => true,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** 128 + the signal's number: the conventional exit code of a process stopped by it. */
export function signalExitCode(signal: StopSignal): number {
  return signal === 'SIGINT' ? 130 : 143;
}
