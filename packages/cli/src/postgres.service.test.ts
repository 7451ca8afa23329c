import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { baton, batonAsync, workdir } from './test-support/spawn.js';

const databaseUrl = inject('databaseUrl');

describe('the run registry on PostgreSQL (--database-url; server started by the test setup)', () => {
  it('records a run directly in Postgres, with no event spool', async () => {
    const dir = workdir();
    const r = await batonAsync(dir, [
      'run',
      'report',
      '--sources',
      'sources',
      '--auto-approve',
      '--database-url',
      databaseUrl,
      '--faults',
      'invalid=objectives',
    ]);
    expect(r.code).toBe(0);
    const runId = /Run (report-[\w-]+) /.exec(r.stdout)![1]!;
    expect(existsSync(join(dir, '.baton/events'))).toBe(false);
    // DATABASE_URL works as well as the flag
    const row = JSON.parse(baton(dir, ['status', runId, '--registry'], { DATABASE_URL: databaseUrl }).stdout) as {
      status: string;
      engine: string;
      attempts: { stepPath: string; status: string; error?: { code: string; errorClass: string } }[];
      reviews: { decision: string }[];
    };
    expect(row).toMatchObject({ status: 'succeeded', engine: 'local' });
    expect(row.attempts.find((a) => a.stepPath === 'sections[2]/validate' && a.status === 'failed')?.error).toMatchObject({
      code: 'ValidationFailed',
      errorClass: 'validation',
    });
    expect(row.reviews.map((x) => x.decision)).toEqual(['approved']);
    const list = JSON.parse(baton(dir, ['list', '--registry', '--database-url', databaseUrl]).stdout) as { runId: string }[];
    expect(list.map((x) => x.runId)).toContain(runId);
  });

  it('says what to do when the database is unreachable', () => {
    const dir = workdir();
    const r = baton(dir, ['list', '--registry', '--database-url', 'postgres://nobody:secret@127.0.0.1:1/none']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cannot open the run registry at postgres://nobody:***@127.0.0.1:1/none');
    expect(r.stderr).not.toContain('secret');
  });
});
