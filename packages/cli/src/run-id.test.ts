import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baton, workdir } from './test-support/spawn.js';

/** Every path under `dir`, relative, sorted. */
const tree = (dir: string): string[] => (readdirSync(dir, { recursive: true }) as string[]).map(String).sort();

describe('baton run --run-id (built CLI)', () => {
  // The id is refused while the command line is parsed, so no engine is reached: the same
  // refusal on every engine, without its services.
  for (const engine of ['local', 'bullmq', 'temporal', 'stepfunctions-local']) {
    it.each(['../../package', 'team/a', 'rep 1'])(`--engine ${engine}: refuses %j with exit 2 before anything is written`, (id) => {
      const dir = workdir();
      const project = join(dir, 'project');
      mkdirSync(project);
      writeFileSync(join(project, 'package.json'), '{"name":"mine"}\n');
      const before = tree(dir);
      const r = baton(project, ['run', 'report', '--engine', engine, '--sources', '../sources', '--state-dir', 'a/b', '--run-id', id, '--auto-approve']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`invalid run id ${JSON.stringify(id)}: a run id is 1-64 characters: letters, digits, "_" and "-"`);
      expect(tree(dir)).toEqual(before);
      expect(readFileSync(join(project, 'package.json'), 'utf8')).toBe('{"name":"mine"}\n');
    });
  }

  it('rep_1 and rep-1 are two runs with their own reports', () => {
    const dir = workdir();
    const first = baton(dir, [
      'run',
      'report',
      '--engine',
      'local',
      '--sources',
      'sources',
      '--run-id',
      'rep_1',
      '--title',
      'First',
      '--out',
      'out1',
      '--auto-approve',
    ]);
    const second = baton(dir, [
      'run',
      'report',
      '--engine',
      'local',
      '--sources',
      'sources',
      '--run-id',
      'rep-1',
      '--title',
      'Second',
      '--out',
      'out2',
      '--auto-approve',
    ]);
    expect([first.code, second.code]).toEqual([0, 0]);
    expect(readFileSync(join(dir, 'out1/report.md'), 'utf8')).toContain('First');
    expect(readFileSync(join(dir, 'out2/report.md'), 'utf8')).toContain('Second');
    expect(readFileSync(join(dir, 'out2/report.md'), 'utf8')).not.toContain('# First');
  });
});
