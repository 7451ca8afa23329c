import type { RunObserver } from '@baton/core';
import { openContext, type GlobalOptions } from '../context.js';
import { workerFactory } from '../engines.js';
import { WORKER_EXIT_CODES } from '../exit-codes.js';
import { WORKER_REVIEW_NOTICES, configuredNotifier } from '../notifier.js';
import { STOP_BUDGET_MS, stopSignal, within } from '../shutdown.js';

/**
 * `baton worker --engine bullmq|temporal`: runs this process as a worker of the engine until
 * SIGINT or SIGTERM. Then it stops taking work and gives the steps it is running until the grace
 * time ({@link STOP_BUDGET_MS}, within 5 s in all) to finish; steps still running then are handed
 * back: BullMQ moves their jobs back once their lock lapses (the stalled-job check), Temporal
 * retries the cancelled activity on another worker, in both cases as the same attempt. Exit 0
 * when every started step finished, 3 when some were handed back.
 * Review notices of gates opened here go to `--review-notices` (default `announce`: the gate without
 * its token; `stdout` prints the token) and to `<stateDir>/reviews/notices.jsonl`.
 */
export async function workerCommand(global: GlobalOptions): Promise<number> {
  const create = workerFactory(global.engine);
  const ctx = await openContext(global);
  const say = (line: string): void => void process.stdout.write(line + '\n');
  const { notifier, targets } = await configuredNotifier(global.connection?.reviewNotifier ?? WORKER_REVIEW_NOTICES, ctx.stateDir, say);
  const inFlight = new Set<string>();
  const observer: RunObserver = (e) => {
    if (e.type === 'attempt-started') inFlight.add(`${e.runId} ${e.stepPath}#${e.attempt}`);
    else if (e.type === 'attempt-finished') inFlight.delete(`${e.runId} ${e.stepPath}#${e.attempt}`);
    return ctx.recorder.observer(e);
  };
  const signal = stopSignal();
  let worker;
  try {
    worker = await create({
      pipelines: ctx.pipelines,
      stateDir: ctx.stateDir,
      blobs: ctx.blobs,
      model: ctx.model,
      ...(ctx.prices ? { prices: ctx.prices } : {}),
      logger: ctx.logger,
      observer,
      notifier,
      ...(global.connection ? { connection: global.connection } : {}),
    });
  } catch (e) {
    signal.dispose();
    await ctx.recorder.close();
    throw e;
  }
  say(
    `${worker.description} ready: pipelines ${ctx.pipelines.map((p) => p.name).join(', ')}; blobs in ${ctx.stateDir}/blobs; review notices to ${targets.join(', ')}. Stop with Ctrl-C (SIGINT) or SIGTERM.`,
  );
  const stopped = await Promise.race([signal.promise, worker.running.then(() => undefined)]).catch(async (e: unknown) => {
    signal.dispose();
    await ctx.recorder.close();
    throw e;
  });
  signal.dispose();
  if (!stopped) {
    say('worker stopped');
    await ctx.recorder.close();
    return WORKER_EXIT_CODES.drained;
  }
  const started = inFlight.size;
  say(`${stopped}: stopping the worker: ${started} step(s) in flight get ${STOP_BUDGET_MS} ms to finish, then are handed back to other workers`);
  const clean = await within(STOP_BUDGET_MS, () => worker.close());
  const handedBack = [...inFlight];
  await within(500, () => ctx.recorder.close());
  if (!clean || handedBack.length > 0) {
    say(
      `worker stopped: ${handedBack.length || 'its'} step(s) handed back (another worker runs them again as the same attempt)${handedBack.length ? `: ${handedBack.join(', ')}` : ''}`,
    );
    return WORKER_EXIT_CODES.handedBack;
  }
  say(`worker stopped cleanly: ${started} step(s) in flight finished`);
  return WORKER_EXIT_CODES.drained;
}
