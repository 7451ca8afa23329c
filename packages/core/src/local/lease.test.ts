import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { definePipeline } from '../builder.js';
import { defineStage } from '../stage.js';
import { z } from 'zod';
import { createLocalEngine } from './engine.js';
import { createLeaseKeeper, readRunLease, type RunLease } from './lease.js';

const dir = (): string => mkdtempSync(join(tmpdir(), 'baton-lease-'));

describe('run leases of the local engine', () => {
  it('held while this process renews it, none once released', () => {
    const d = dir();
    const leases = createLeaseKeeper(d);
    leases.hold('r1');
    const lease = readRunLease(d, 'r1');
    expect(lease).toMatchObject({ state: 'held', lease: { runId: 'r1', pid: process.pid } });
    leases.release('r1');
    expect(readRunLease(d, 'r1')).toEqual({ state: 'none' });
  });

  it('lapsed when its holder process is gone, or when its heartbeat is older than its TTL', () => {
    const d = dir();
    const leases = createLeaseKeeper(d);
    leases.hold('r2');
    const file = join(d, 'leases', 'r2.json');
    const lease = JSON.parse(readFileSync(file, 'utf8')) as RunLease;
    // a pid that surely exited: a child that has finished
    const deadPid = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid!;
    writeFileSync(file, JSON.stringify({ ...lease, pid: deadPid }));
    expect(readRunLease(d, 'r2').state).toBe('lapsed');
    writeFileSync(file, JSON.stringify({ ...lease, host: 'another-host' }));
    expect(readRunLease(d, 'r2', Date.parse(lease.renewedAt) + 1000).state).toBe('held');
    expect(readRunLease(d, 'r2', Date.parse(lease.renewedAt) + lease.ttlMs + 1).state).toBe('lapsed');
    leases.abandon();
    expect(existsSync(file)).toBe(true);
  });

  it('the engine holds a lease while it drives a run, leaves it to lapse on close and removes it when the run ends', async () => {
    const d = dir();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const slow = defineStage({
      name: 'slow',
      version: 1,
      input: z.object({}),
      output: z.object({ ok: z.boolean() }),
      run: async () => (await gate, { ok: true }),
    });
    const pipeline = definePipeline({ name: 'leased', version: 1 }).task('slow', slow).build();
    const engine = createLocalEngine({ pipelines: [pipeline], dir: d });
    const { runId } = await engine.start('leased', {});
    expect(readRunLease(d, runId)).toMatchObject({ state: 'held', lease: { pid: process.pid } });
    release();
    await engine.result(runId);
    expect(readRunLease(d, runId)).toEqual({ state: 'none' });

    const stuck = await engine.start('leased', {}, { runId: 'leased-stuck' });
    expect(readRunLease(d, stuck.runId).state).toBe('held');
    await engine.close();
    // closed: nobody renews it any more, and it lapses after its TTL
    const held = readRunLease(d, stuck.runId);
    expect(held.state).toBe('held');
    if (held.state !== 'held') return;
    expect(readRunLease(d, stuck.runId, Date.parse(held.lease.renewedAt) + held.lease.ttlMs + 1).state).toBe('lapsed');
  });
});
