import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createJsonLogger } from '@baton/core';
import { describe, expect, inject, it } from 'vitest';
import { toTemporalLogger } from './logging.js';

const script = fileURLToPath(new URL('./test-support/silent-worker.ts', import.meta.url));

/** Runs the silent-logger engine in a child process; its stdout and stderr. */
function runSilentWorker(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = fork(script, [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), BATON_TASK_QUEUE: `silent-${process.pid}-${Date.now()}` },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('Temporal SDK logs go through the Baton logger', () => {
  it('a worker created with the silent logger writes nothing to stderr while it runs a pipeline', async () => {
    const { code, stdout, stderr } = await runSilentWorker();
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ status: 'succeeded', output: { text: 'hi' } });
  });

  it('SDK lines reach the Baton logger at the matching level, with their metadata as fields', () => {
    const lines: Record<string, unknown>[] = [];
    const logger = toTemporalLogger(createJsonLogger({ level: 'debug', write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) }));
    logger.info('Worker state changed', { sdkComponent: 'worker', taskQueue: 'q', state: 'RUNNING' });
    logger.log('WARN', 'slow poll', { error: new Error('deadline') });
    logger.trace('tick');
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ['info', 'Worker state changed'],
      ['warn', 'slow poll'],
      ['debug', 'tick'],
    ]);
    expect(lines[0]).toMatchObject({ temporal: 'worker', taskQueue: 'q', state: 'RUNNING' });
    expect(lines[1]).toMatchObject({ error: 'Error: deadline' });
  });
});
