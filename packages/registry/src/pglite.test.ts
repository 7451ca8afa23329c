import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { createPgliteRegistry } from './pglite.js';

it('keeps runs in a data directory across restarts without re-applying migrations', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-pglite-'));
  try {
    const first = await createPgliteRegistry({ dataDir: dir });
    await first.apply({ type: 'run-started', runId: 'kept', pipeline: 'p', engine: 'local', input: { a: 1 }, at: '2026-11-23T09:00:00.000Z' });
    await first.close();
    const second = await createPgliteRegistry({ dataDir: dir });
    expect(await second.getRun('kept')).toMatchObject({ runId: 'kept', status: 'running', inputRef: { a: 1 } });
    await second.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
