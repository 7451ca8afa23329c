import { mkdtempSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSidecar, writeSidecar, type RunSidecar } from './sidecar.js';

const RUN: RunSidecar = {
  runId: 'report-1',
  pipeline: 'report',
  pipelines: './pipelines.js',
  engine: 'bullmq',
  model: 'offline',
  connection: { redisUrl: 'redis://default:hunter2@cache.internal:6380/0', bullmqPrefix: 'baton' },
};

describe('run sidecar (the CLI state file)', () => {
  it('never holds the Redis password, and is readable by its owner only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-sidecar-'));
    writeSidecar(dir, RUN);
    const file = join(dir, 'cli', 'report-1.json');
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('hunter2');
    expect(JSON.parse(text).connection.redisUrl).toBe('redis://default@cache.internal:6380/0');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'cli')).mode & 0o077).toBe(0);
  });

  it('tightens a file left world-readable by an older CLI when it rewrites it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-sidecar-'));
    mkdirSync(join(dir, 'cli'));
    writeFileSync(join(dir, 'cli', 'report-1.json'), '{}', { mode: 0o644 });
    writeSidecar(dir, RUN);
    expect(statSync(join(dir, 'cli', 'report-1.json')).mode & 0o777).toBe(0o600);
  });

  it('takes the password back from REDIS_URL on resume when it names the same server and user', () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-sidecar-'));
    writeSidecar(dir, RUN);
    expect(readSidecar(dir, 'report-1', { REDIS_URL: RUN.connection!.redisUrl })?.connection?.redisUrl).toBe(RUN.connection!.redisUrl);
    expect(readSidecar(dir, 'report-1', { REDIS_URL: 'redis://default:other@elsewhere:6380/0' })?.connection?.redisUrl).toBe(
      'redis://default@cache.internal:6380/0',
    );
    expect(readSidecar(dir, 'report-1', {})?.connection).toEqual({ redisUrl: 'redis://default@cache.internal:6380/0', bullmqPrefix: 'baton' });
    expect(readSidecar(dir, 'missing', {})).toBeUndefined();
  });
});
