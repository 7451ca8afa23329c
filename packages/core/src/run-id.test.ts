import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePipeline } from './builder.js';
import { isStageError } from './errors.js';
import { createLocalEngine } from './local/engine.js';
import { createFileJournalStore } from './local/journal.js';
import { createFsBlobStore } from './ports/blob-store.js';
import { RUN_ID_PATTERN, assertRunId, newRunId, pathUnder, startRunId } from './run-id.js';
import { defineStage } from './stage.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'baton-run-id-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Every file under `dir`, relative, sorted. */
const tree = (dir: string): string[] => (readdirSync(dir, { recursive: true }) as string[]).map(String).sort();

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return isStageError(e) ? e.code : 'not a StageError';
  }
  return undefined;
};

const HOSTILE = ['../../package', 'team/a', 'rep 1', '', '.hidden', 'a.b', '-lead', 'x'.repeat(65), 'tab\there', 'ünï', 'a\\b', 'C:x'];

describe('run ids', () => {
  it('accepts letters, digits, _ and - up to 64 characters, starting with a letter or digit', () => {
    for (const id of ['r', 'run-1', 'rep_1', 'Report-2026-04-01_a', '0', 'x'.repeat(64)]) expect(assertRunId(id)).toBe(id);
  });

  it('refuses paths, separators, spaces, dots and over-long ids with InvalidInput saying the rule', () => {
    for (const id of HOSTILE) {
      expect(
        codeOf(() => assertRunId(id)),
        id,
      ).toBe('InvalidInput');
    }
    expect(() => assertRunId('../../package')).toThrow(/invalid run id "..\/..\/package": a run id is 1-64 characters: letters, digits, "_" and "-"/);
  });

  it('generated ids follow the rule, whatever the pipeline is called', () => {
    for (const name of ['report', 'my.pipeline v2', '../x', '__', 'p'.repeat(200)]) expect(newRunId(name)).toMatch(RUN_ID_PATTERN);
    expect(startRunId(undefined, 'report')).toMatch(/^report-\d{14}-[0-9a-f]{8}$/);
    expect(startRunId('given', 'report')).toBe('given');
    expect(codeOf(() => startRunId('team/a', 'report'))).toBe('InvalidInput');
  });

  it('pathUnder keeps paths inside their directory', () => {
    const d = tempDir();
    expect(pathUnder(d, 'a.jsonl')).toBe(join(d, 'a.jsonl'));
    expect(pathUnder(d, 'sub', 'a')).toBe(join(d, 'sub', 'a'));
    for (const p of ['../x', '../../package.json', '/etc/passwd', '.', 'a/../../x'])
      expect(
        codeOf(() => pathUnder(d, p)),
        p,
      ).toBe('InvalidInput');
  });
});

describe('file journal', () => {
  it('"rep 1" is refused instead of sharing the journal of "rep_1"', () => {
    const dir = tempDir();
    const journal = createFileJournalStore(dir);
    journal.append('rep_1', { t: 'start', runId: 'rep_1', pipeline: 'p', input: 1, at: 'now' });
    expect(codeOf(() => journal.read('rep 1'))).toBe('InvalidInput');
    expect(codeOf(() => journal.append('rep 1', { t: 'start', runId: 'rep 1', pipeline: 'p', input: 2, at: 'now' }))).toBe('InvalidInput');
    expect(journal.read('rep_1')).toHaveLength(1);
    expect(tree(dir)).toEqual(['runs', 'runs/rep_1.jsonl']);
  });

  it('on a file system that ignores case, Rep1 is refused instead of reading the journal of rep1', () => {
    const dir = tempDir();
    const journal = createFileJournalStore(dir);
    journal.append('rep1', { t: 'start', runId: 'rep1', pipeline: 'p', input: 1, at: 'now' });
    // what macOS or Windows would hand back for "Rep1.jsonl": the same file
    writeFileSync(join(dir, 'runs', 'Rep1.jsonl'), readFileSync(join(dir, 'runs', 'rep1.jsonl')));
    expect(() => journal.read('Rep1')).toThrow('run id "Rep1" names the journal of run "rep1" on this file system, which ignores case: choose another id');
  });

  it('an id that is a path writes nothing anywhere', () => {
    const root = tempDir();
    const dir = join(root, 'state', 'journal');
    const journal = createFileJournalStore(dir);
    for (const id of HOSTILE) {
      expect(
        codeOf(() => journal.append(id, { t: 'start', runId: id, pipeline: 'p', input: 1, at: 'now' })),
        id,
      ).toBe('InvalidInput');
    }
    expect(tree(root)).toEqual(['state', 'state/journal', 'state/journal/runs']);
  });
});

describe('local engine start', () => {
  const step = defineStage({ name: 'step', version: 1, input: z.unknown(), output: z.string(), run: async () => 'done' });
  const pipeline = definePipeline({ name: 'p', version: 1 }).task('step', step).build();

  it.each(['../../package', 'team/a', 'rep 1'])('refuses --run-id %j before anything is written', async (id) => {
    const root = tempDir();
    const dir = join(root, 'a', 'b');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(root, 'package.json'), '{"name":"mine"}');
    const engine = createLocalEngine({ pipelines: [pipeline], dir });
    const before = tree(root);
    const err = await engine.start('p', {}, { runId: id }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isStageError(err) && err.code).toBe('InvalidInput');
    expect(isStageError(err) && err.retryable).toBe(false);
    expect(tree(root)).toEqual(before);
    expect(await engine.list()).toEqual([]);
    await engine.close();
  });

  it('rep_1 and rep-1 are two runs with two journals', async () => {
    const dir = tempDir();
    const engine = createLocalEngine({ pipelines: [pipeline], dir });
    await engine.start('p', {}, { runId: 'rep_1' });
    await engine.start('p', {}, { runId: 'rep-1' });
    await engine.result('rep_1');
    await engine.result('rep-1');
    expect((await engine.list()).map((r) => r.runId).sort()).toEqual(['rep-1', 'rep_1']);
    expect(existsSync(join(dir, 'runs', 'rep_1.jsonl')) && existsSync(join(dir, 'runs', 'rep-1.jsonl'))).toBe(true);
    await engine.close();
  });
});

describe('fs blob store', () => {
  it('keeps every key under its root', async () => {
    const root = tempDir();
    const blobs = createFsBlobStore({ root: join(root, 'blobs') });
    for (const key of ['../escape', '../../package.json', '/etc/passwd', 'a/../../x']) {
      const err = await blobs.put(key, 'x').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isStageError(err) && err.code, key).toBe('InvalidInput');
    }
    expect(existsSync(join(root, 'escape')) || existsSync(join(root, 'package.json'))).toBe(false);
  });
});
