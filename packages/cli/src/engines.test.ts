import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baton, batonAsync, workdir } from './test-support/spawn.js';

const RUN = ['run', 'report', '--sources', 'sources', '--auto-approve'];

interface RegistryRow {
  runId: string;
  engine: string;
  status: string;
}

describe('baton run --engine stepfunctions-local (the compiled ASL on aws-local-stepfunctions)', () => {
  it('runs the report as its state machine and records it in the registry', async () => {
    const dir = workdir();
    const r = await batonAsync(dir, [...RUN, '--engine', 'stepfunctions-local', '--out', 'out/report']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\(report on stepfunctions-local\): SUCCEEDED/);
    expect(r.stdout).toContain('sections: total 9, ok 9, failed 0');
    expect(existsSync(join(dir, 'out/report/report.docx'))).toBe(true);
    const runId = /Run (report-[\w-]+) /.exec(r.stdout)![1]!;
    const row = JSON.parse(baton(dir, ['status', runId, '--registry']).stdout) as RegistryRow & { attempts: unknown[] };
    expect(row).toMatchObject({ engine: 'stepfunctions-local', status: 'succeeded' });
    expect(row.attempts.length).toBeGreaterThanOrEqual(26);
  });
});

describe('the run registry (event spool ingested into PGlite)', () => {
  it('records runs of concurrent CLI processes, and a later ingest adds only what is new', async () => {
    const dir = workdir();
    const [a, b] = await Promise.all([batonAsync(dir, [...RUN, '--out', 'a']), batonAsync(dir, [...RUN, '--out', 'b', '--faults', 'throttle=synopsis'])]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const ids = [a, b].map((r) => /Run (report-[\w-]+) /.exec(r.stdout)![1]!);
    const rows = JSON.parse(baton(dir, ['list', '--registry']).stdout) as RegistryRow[];
    expect(rows.map((r) => r.runId).sort()).toEqual([...ids].sort());
    expect(rows.every((r) => r.status === 'succeeded' && r.engine === 'local')).toBe(true);
    const withRetry = JSON.parse(baton(dir, ['status', ids[1]!, '--registry']).stdout) as {
      attempts: { stepPath: string; status: string; error?: { code: string } }[];
    };
    expect(withRetry.attempts.filter((x) => x.stepPath === 'sections[0]/generate').map((x) => [x.status, x.error?.code])).toEqual([
      ['failed', 'ThrottlingException'],
      ['succeeded', undefined],
    ]);
    // a third run after the first ingest: the registry gets it, the others stay as they were
    const c = await batonAsync(dir, [...RUN, '--out', 'c']);
    const again = JSON.parse(baton(dir, ['list', '--registry']).stdout) as RegistryRow[];
    expect(again).toHaveLength(3);
    expect(again.map((r) => r.runId)).toContain(/Run (report-[\w-]+) /.exec(c.stdout)![1]!);
  });
});
