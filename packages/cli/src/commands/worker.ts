import type { ReviewNotice } from '@baton/core';
import { openContext, type GlobalOptions } from '../context.js';
import { workerFactory } from '../engines.js';

/**
 * `baton worker --engine bullmq|temporal`: runs this process as a worker of the engine until
 * SIGINT or SIGTERM, then stops taking work, lets running stage attempts finish and exits 0.
 * Review tokens of gates opened here are printed, so a reviewer can decide with `baton approve`.
 */
export async function workerCommand(global: GlobalOptions): Promise<number> {
  const create = workerFactory(global.engine);
  const ctx = await openContext(global);
  const say = (line: string): void => void process.stdout.write(line + '\n');
  const notifier = (n: ReviewNotice): void => say(`review gate "${n.gate}" of run ${n.runId} opened. Decide with: baton approve ${n.runId} ${n.gate} --token ${n.token}`);
  let worker;
  try {
    worker = await create({
      pipelines: ctx.pipelines,
      stateDir: ctx.stateDir,
      blobs: ctx.blobs,
      model: ctx.model,
      logger: ctx.logger,
      observer: ctx.recorder.observer,
      notifier,
      ...(global.connection ? { connection: global.connection } : {}),
    });
  } catch (e) {
    await ctx.recorder.close();
    throw e;
  }
  say(`${worker.description} ready: pipelines ${ctx.pipelines.map((p) => p.name).join(', ')}; blobs in ${ctx.stateDir}/blobs. Stop with Ctrl-C (SIGINT) or SIGTERM.`);
  const signal = await new Promise<string | undefined>((resolve, reject) => {
    const on = (s: NodeJS.Signals): void => resolve(s);
    process.once('SIGINT', on);
    process.once('SIGTERM', on);
    worker.running.then(() => resolve(undefined), reject);
  }).catch(async (e: unknown) => {
    await ctx.recorder.close();
    throw e;
  });
  say(signal ? `${signal}: stopping the worker (running stage attempts finish first)` : 'worker stopped');
  await worker.close();
  await ctx.recorder.close();
  say('worker stopped cleanly');
  return 0;
}
