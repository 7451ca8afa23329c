import { createPgliteRegistry } from '@baton/registry';
import type { RunEvent } from '@baton/core';
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSpooledRegistry, createSpoolObserver, spoolDir } from './spool.js';

const at = (s: number): string => new Date(Date.UTC(2026, 10, 26, 9, 0, s)).toISOString();

describe('the run event spool', () => {
  it('ingests complete lines once, waits for a line still being written, and skips a torn one', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'baton-spool-'));
    const registry = createSpooledRegistry(await createPgliteRegistry(), stateDir, join(stateDir, 'offsets.json'));
    try {
      const observe = createSpoolObserver(stateDir);
      await observe({ type: 'run-started', runId: 'r1', pipeline: 'p', engine: 'local', input: {}, at: at(0) });
      await observe({ type: 'step-started', runId: 'r1', stepPath: 'a', kind: 'task', at: at(1) });
      await observe({ type: 'attempt-started', runId: 'r1', stepPath: 'a', stage: 's', attempt: 1, at: at(1) });
      expect(await registry.ingest()).toBe(3);
      expect(await registry.ingest()).toBe(0);
      expect((await registry.getRun('r1'))?.currentStep).toBe('a');

      // a writer in the middle of its line: nothing of it is applied yet
      const file = join(spoolDir(stateDir), 'r1.jsonl');
      const finished: RunEvent = { type: 'run-finished', runId: 'r1', status: 'succeeded', output: { ok: true }, at: at(5) };
      const line = JSON.stringify(finished);
      appendFileSync(file, '{"torn":\n' + line.slice(0, 20));
      expect((await registry.getRun('r1'))?.status).toBe('running');
      appendFileSync(file, line.slice(20) + '\n');
      const run = await registry.getRun('r1');
      expect(run?.status).toBe('succeeded');
      expect(run?.attempts).toHaveLength(1);

      // everything was applied exactly once: a further ingest finds nothing new
      expect(await registry.ingest()).toBe(0);
    } finally {
      await registry.close();
    }
  });
});
