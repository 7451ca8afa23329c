import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baton, workdir } from './test-support/spawn.js';

const RUN = ['run', 'report', '--engine', 'local', '--sources', 'sources', '--auto-approve', '--log-level', 'debug'];
const runIdOf = (text: string): string => /Run (report-[\w-]+) /.exec(text)![1]!;
const jsonLines = (text: string): Record<string, unknown>[] =>
  text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('baton --log-format (built CLI, local engine)', () => {
  it('by default keeps the terminal human and the JSON log in the state directory; json sends pino lines to stderr, the human output unchanged', () => {
    const plain = workdir();
    const byDefault = baton(plain, RUN);
    expect(byDefault.code).toBe(0);
    expect(jsonLines(byDefault.stdout + byDefault.stderr)).toEqual([]);
    const fileLines = jsonLines(readFileSync(join(plain, '.baton/logs/baton.jsonl'), 'utf8'));
    expect(fileLines.find((l) => l.msg === 'stage succeeded' && l.stepPath === 'plan')).toMatchObject({
      level: 'debug',
      runId: runIdOf(byDefault.stdout),
      attempt: 1,
    });

    const piped = workdir();
    const json = baton(piped, RUN, { BATON_LOG_FORMAT: 'json' });
    expect(json.code).toBe(0);
    const runId = runIdOf(json.stdout);
    const lines = jsonLines(json.stderr);
    // pino's shape: numeric level, epoch time, pid, and Baton's fields on every step line
    expect(lines.find((l) => l.msg === 'stage succeeded' && l.stepPath === 'plan')).toMatchObject({
      level: 20,
      name: 'baton',
      pid: expect.any(Number),
      time: expect.any(Number),
      runId,
      attempt: 1,
      stage: 'plan',
    });
    expect(lines.find((l) => l.msg === 'run ended')).toMatchObject({ level: 30, runId, status: 'succeeded' });
    expect(existsSync(join(piped, '.baton/logs/baton.jsonl'))).toBe(false);
    // the same human report on stdout, and the same progress on stderr once the JSON lines are set aside
    const human = (text: string, id: string): string[] =>
      text
        .split(id)
        .join('RUN')
        .split('\n')
        .filter((l) => !l.startsWith('{'))
        .map((l) => l.replaceAll(piped, 'DIR').replaceAll(plain, 'DIR'))
        .sort();
    expect(human(json.stdout, runId)).toEqual(human(byDefault.stdout, runIdOf(byDefault.stdout)));
    expect(human(json.stderr, runId)).toEqual(human(byDefault.stderr, runIdOf(byDefault.stdout)));
  });

  it('refuses an unknown format (exit 2)', () => {
    const dir = workdir();
    const bad = baton(dir, ['--log-format', 'xml', 'list']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("argument 'xml' is invalid. Allowed choices are file, json");
  });
});
