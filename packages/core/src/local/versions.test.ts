import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePipeline } from '../builder.js';
import { StageError, isStageError } from '../errors.js';
import { irDigest } from '../pipeline-versions.js';
import { defineStage } from '../stage.js';
import { createLocalEngine, type LocalEngine } from './engine.js';

const calls: string[] = [];
let broken = true;
const step = (name: string, version: number) =>
  defineStage({
    name,
    version,
    input: z.object({ n: z.number() }),
    output: z.object({ n: z.number() }),
    async run(input) {
      calls.push(`${name}@${version}`);
      if (name === 'finish' && broken) throw new StageError('Broken', 'finish is broken', { retryable: false });
      return { n: input.n + version * 10 };
    },
  });

const pipelineWith = (prepare: number, finish: number, version = 1) =>
  definePipeline({ name: 'versioned', version })
    .task('prepare', step('prepare', prepare), { input: { 'n.$': '$.n' }, resultPath: '$.prepared' })
    .task('finish', step('finish', finish), { input: { 'n.$': '$.prepared.n' }, resultPath: '$.finished' })
    .build();
const gated = (version: number) =>
  definePipeline({ name: 'gated', version })
    .task('prepare', step('prepare', 1), { input: { 'n.$': '$.n' }, resultPath: '$.prepared' })
    .approval('review', { gate: 'review', timeoutSeconds: 3600 })
    .build();

const dirs: string[] = [];
const engines: LocalEngine[] = [];
const open = (pipelines: Parameters<typeof createLocalEngine>[0]['pipelines'], dir: string, tokens?: string[]): LocalEngine => {
  const e = createLocalEngine({ pipelines, dir, ...(tokens ? { notifier: (n) => void tokens.push(n.token) } : {}) });
  engines.push(e);
  return e;
};
const newDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'baton-versions-'));
  dirs.push(d);
  return d;
};
const refusal = async (call: Promise<unknown>): Promise<{ code: string; details: unknown }> => {
  const e = await call.then(
    () => new Error('not refused'),
    (err: unknown) => err,
  );
  if (!isStageError(e)) throw e;
  return { code: e.code, details: e.details };
};
/** A run of `gated` v1 waiting at its gate, in a directory whose engine then crashed. */
const crashedAtGate = async (): Promise<{ dir: string; runId: string; token: string }> => {
  const dir = newDir();
  const tokens: string[] = [];
  const first = open([gated(1)], dir, tokens);
  const { runId } = await first.start('gated', { n: 1 });
  await expect.poll(() => tokens.length).toBe(1);
  first.crash();
  return { dir, runId, token: tokens[0]! };
};
const journalOf = (dir: string, runId: string): string => readFileSync(join(dir, 'runs', `${runId}.jsonl`), 'utf8');

afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  calls.length = 0;
  broken = true;
});

describe('local engine: runs pinned to their pipeline version', () => {
  it('records version, IR digest and stage versions at start; starts the newest or a named version', async () => {
    const v1 = pipelineWith(1, 1, 1);
    const v2 = pipelineWith(2, 1, 2);
    const dir = newDir();
    const engine = open([v1, v2], dir);
    broken = false;
    const newest = await engine.start('versioned', { n: 0 });
    const named = await engine.start('versioned', { n: 0 }, { version: 1 });
    expect(await engine.result(newest.runId)).toMatchObject({ status: 'succeeded', output: { prepared: { n: 20 } } });
    expect(await engine.result(named.runId)).toMatchObject({ status: 'succeeded', output: { prepared: { n: 10 } } });
    const start = JSON.parse(journalOf(dir, named.runId).split('\n')[0]!) as Record<string, unknown>;
    expect(start.pin).toEqual({ version: 1, digest: irDigest(v1.ir), stages: { finish: 1, prepare: 1 } });
    expect((await engine.status(newest.runId)).pipelineVersion).toBe(2);
    expect(await refusal(engine.start('versioned', { n: 0 }, { version: 3 }))).toMatchObject({
      code: 'PipelineVersionNotLoaded',
      details: { pipeline: 'versioned', version: 3, loaded: [1, 2] },
    });
  });

  it('a waiting run whose version is gone is refused on approve and not resumed; its journal is unchanged', async () => {
    const { dir, runId, token } = await crashedAtGate();
    const before = journalOf(dir, runId);
    const second = open([gated(2)], dir);
    expect(await second.recover()).toEqual([]);
    const refused = await refusal(second.approve(runId, 'review', { token }));
    expect(refused).toEqual({ code: 'PipelineVersionNotLoaded', details: { pipeline: 'gated', version: 1, loaded: [2], runId } });
    expect(await refusal(second.result(runId, { timeoutMs: 1000 }))).toMatchObject({ code: 'PipelineVersionNotLoaded' });
    expect(journalOf(dir, runId)).toBe(before);
    expect((await second.status(runId)).status).toBe('waiting');
  });

  it('the same version number with another IR is refused, naming the digests', async () => {
    const { dir, runId, token } = await crashedAtGate();
    const reshaped = definePipeline({ name: 'gated', version: 1 }).approval('review', { gate: 'review', timeoutSeconds: 3600 }).build();
    const second = open([reshaped], dir);
    const e = await second.approve(runId, 'review', { token }).catch((err: unknown) => err as Error);
    expect(e).toMatchObject({ code: 'PipelineVersionNotLoaded', message: expect.stringMatching(/another IR \(digest [0-9a-f]{12}, the run's [0-9a-f]{12}\)/) });
  });

  it('redrive takes new stage versions: a changed stage runs again, an unchanged one keeps its output', async () => {
    const dir = newDir();
    const first = open([pipelineWith(1, 1)], dir);
    const { runId } = await first.start('versioned', { n: 0 });
    expect(await first.result(runId)).toMatchObject({ status: 'failed', error: { code: 'Broken' } });
    await first.close();
    expect(calls).toEqual(['prepare@1', 'finish@1']);

    // finish fixed in version 2 of its stage; prepare unchanged: only finish runs again
    broken = false;
    calls.length = 0;
    const second = open([pipelineWith(1, 2)], dir);
    await expect(second.result(runId, { timeoutMs: 1000 })).resolves.toMatchObject({ status: 'failed' });
    await second.redrive(runId);
    expect(await second.result(runId)).toMatchObject({ status: 'succeeded', output: { prepared: { n: 10 }, finished: { n: 30 } } });
    expect(calls).toEqual(['finish@2']);
  });

  it('redrive re-runs a completed step whose stage version changed', async () => {
    const dir = newDir();
    const first = open([pipelineWith(1, 1)], dir);
    const { runId } = await first.start('versioned', { n: 0 });
    await first.result(runId);
    await first.close();
    broken = false;
    calls.length = 0;
    const second = open([pipelineWith(3, 2)], dir);
    await second.redrive(runId);
    expect(await second.result(runId)).toMatchObject({ status: 'succeeded', output: { prepared: { n: 30 }, finished: { n: 50 } } });
    expect(calls).toEqual(['prepare@3', 'finish@2']);
    // the run is now pinned to the stage versions it was redriven with
    const third = open([pipelineWith(1, 1)], dir);
    expect(await refusal(third.approve(runId, 'none', { token: 'x' }))).toMatchObject({ code: 'PipelineVersionNotLoaded' });
  });

  it('without a stage version change, resume and approve refuse a stage whose version differs', async () => {
    const { dir, runId, token } = await crashedAtGate();
    const bumped = definePipeline({ name: 'gated', version: 1 })
      .task('prepare', step('prepare', 2), { input: { 'n.$': '$.n' }, resultPath: '$.prepared' })
      .approval('review', { gate: 'review', timeoutSeconds: 3600 })
      .build();
    const second = open([bumped], dir);
    const e = await second.approve(runId, 'review', { token }).catch((err: unknown) => err as Error);
    expect(e).toMatchObject({ code: 'PipelineVersionNotLoaded', message: expect.stringContaining('stage "prepare" is at version 2, the run\'s is 1') });
  });
});
