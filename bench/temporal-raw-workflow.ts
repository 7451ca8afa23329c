// The raw Temporal side of bench/temporal.ts: plain workflows calling no-op activities.
import { proxyActivities } from '@temporalio/workflow';

/** Activities of the raw side. */
export interface RawActivities {
  noop(i: number): Promise<number>;
  sleepy(ms: number): Promise<number>;
}

const { noop, sleepy } = proxyActivities<RawActivities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 1 } });

/** `hops` sequential no-op activities. */
export async function rawChain(hops: number): Promise<number> {
  let i = 0;
  for (let h = 0; h < hops; h++) i = await noop(i);
  return i;
}

/** `items` activities sleeping `ms`, at most `concurrency` at once. */
export async function rawMap(items: number, concurrency: number, ms: number): Promise<number> {
  let next = 0;
  let done = 0;
  const lane = async (): Promise<void> => {
    while (next < items) {
      next++;
      await sleepy(ms);
      done++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items) }, lane));
  return done;
}
