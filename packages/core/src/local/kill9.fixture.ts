/**
 * Child process of `kill9.test.ts` (run with `node --import tsx`): drives a local engine over a
 * file journal so the test can SIGKILL it at a chosen moment and resume from another process.
 *
 *   start <dir> <probe> <pipeline>   start run `kill9`, then wait for it (the test kills us)
 *   recover <dir>                    resume unfinished runs, wait for `kill9`, print its outcome
 *   approve <dir>                    approve gate `review` with the token the first child saved, print the outcome
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { definePipeline, type AnyPipeline } from '../builder.js';
import type { ReviewNotice } from '../engine.js';
import { kitStep } from '../testkit/stages.js';
import { createLocalEngine } from './engine.js';

// not exported: importing this file runs it
const KILL9_RUN_ID = 'kill9';
const KILL9_STAGES = 8;
const KILL9_STAGE_MS = 200;

const Input = z.object({ probe: z.string() });
const P = { 'probe.$': '$.probe' };

function pipelines(): AnyPipeline[] {
  let sequence = definePipeline({ name: 'sequence', version: 1, input: Input }).task('s1', kitStep, {
    input: { ...P, key: 's1', value: 0, delayMs: KILL9_STAGE_MS },
    resultPath: '$.s1',
  });
  for (let i = 2; i <= KILL9_STAGES; i++) {
    sequence = sequence.task(`s${i}`, kitStep, {
      input: { ...P, key: `s${i}`, 'value.$': `$.s${i - 1}.value`, delayMs: KILL9_STAGE_MS },
      resultPath: `$.s${i}`,
    });
  }
  const gated = definePipeline({ name: 'gated', version: 1, input: Input })
    .task('before', kitStep, { input: { ...P, key: 'before', value: 0 }, resultPath: '$.before' })
    .approval('review', { timeoutSeconds: 3600, payload: { 'value.$': '$.before.value' }, resultPath: '$.review' })
    .task('after', kitStep, { input: { ...P, key: 'after', 'value.$': '$.before.value' }, resultPath: '$.after' })
    .build();
  return [sequence.build(), gated];
}

async function main(): Promise<void> {
  const [mode, dir] = process.argv.slice(2);
  if (!dir) throw new Error('usage: kill9.fixture.ts <start|recover|approve> <dir> [probe pipeline]');
  // written whole or not at all: the test kills this process as soon as the file appears
  const notifier = (notice: ReviewNotice): void => {
    writeFileSync(join(dir, 'token.json.tmp'), JSON.stringify(notice));
    renameSync(join(dir, 'token.json.tmp'), join(dir, 'token.json'));
  };
  const engine = createLocalEngine({ pipelines: pipelines(), dir, notifier });
  if (mode === 'start') {
    const [probe, pipeline] = process.argv.slice(4);
    await engine.start(pipeline!, { probe }, { runId: KILL9_RUN_ID });
    process.stdout.write('started\n');
    await engine.result(KILL9_RUN_ID);
    process.stdout.write('finished before the kill\n');
    return;
  }
  if (mode === 'approve') {
    const notice = JSON.parse(readFileSync(join(dir, 'token.json'), 'utf8')) as ReviewNotice;
    await engine.approve(notice.runId, notice.gate, { token: notice.token, reviewer: 'bob', comment: 'ok from another process' });
  } else if (mode === 'recover') {
    const resumed = await engine.recover();
    process.stdout.write(JSON.stringify({ resumed }) + '\n');
  } else {
    throw new Error(`unknown mode ${String(mode)}`);
  }
  const outcome = await engine.result(KILL9_RUN_ID, { timeoutMs: 20_000 });
  process.stdout.write(JSON.stringify({ outcome }) + '\n');
  await engine.close();
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
