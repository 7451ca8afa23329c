/**
 * Waiting callers of one model, served round-robin across runs and first come, first served
 * within a run: two runs drawing on one budget get turns alike whatever their number of calls
 * waiting. Callers without a run id share one turn.
 */
export interface FairQueue<T> {
  /** Waiting callers, all runs together. */
  readonly size: number;
  push(runId: string | undefined, item: T): void;
  /** The caller whose turn it is, left in place. */
  peek(): T | undefined;
  /** Takes the caller whose turn it is; the turn passes to the next run. */
  shift(): T | undefined;
  /** Takes a caller out of turn (it gave up); false if it was not waiting. */
  remove(item: T): boolean;
  /** Takes every caller, in no particular order. */
  drain(): T[];
}

const NO_RUN = '\u0000';

/** A new empty {@link FairQueue}. */
export function createFairQueue<T>(): FairQueue<T> {
  const byRun = new Map<string, T[]>();
  // runs with callers waiting, in turn order; `turn` indexes the run whose turn it is
  const order: string[] = [];
  let turn = 0;
  let size = 0;
  const dropRun = (i: number): void => {
    byRun.delete(order[i]!);
    order.splice(i, 1);
    if (i < turn) turn -= 1;
    if (turn >= order.length) turn = 0;
  };
  return {
    get size() {
      return size;
    },
    push(runId, item) {
      const key = runId ?? NO_RUN;
      let q = byRun.get(key);
      if (!q) {
        byRun.set(key, (q = []));
        order.push(key);
      }
      q.push(item);
      size += 1;
    },
    peek() {
      const key = order[turn];
      return key === undefined ? undefined : byRun.get(key)![0];
    },
    shift() {
      const key = order[turn];
      if (key === undefined) return undefined;
      const q = byRun.get(key)!;
      const item = q.shift()!;
      size -= 1;
      if (q.length === 0) dropRun(turn);
      else turn = (turn + 1) % order.length;
      return item;
    },
    remove(item) {
      for (let i = 0; i < order.length; i++) {
        const q = byRun.get(order[i]!)!;
        const at = q.indexOf(item);
        if (at < 0) continue;
        q.splice(at, 1);
        size -= 1;
        if (q.length === 0) dropRun(i);
        return true;
      }
      return false;
    },
    drain() {
      const all = [...byRun.values()].flat();
      byRun.clear();
      order.length = 0;
      turn = 0;
      size = 0;
      return all;
    },
  };
}
