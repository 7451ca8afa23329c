import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
  }
}

let server: ChildProcess | undefined;

/**
 * Starts `temporal server start-dev` on a free loopback port (with the dynamic config that makes
 * activity hops fast), or uses TEMPORAL_ADDRESS. Fails loudly when the CLI is missing.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let address = process.env.TEMPORAL_ADDRESS;
  if (!address) {
    const cli = findCli();
    const port = await freePort();
    const args = [
      'server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'error',
      '--metrics-port', String(await freePort()), '--http-port', String(await freePort()),
      '--dynamic-config-value', 'history.transferProcessorMaxPollRPS=1000',
      '--dynamic-config-value', 'history.timerProcessorMaxPollRPS=1000',
    ];
    server = spawn(cli, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    server.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    address = `127.0.0.1:${port}`;
    await waitHealthy(address, () => (server?.exitCode !== null ? `temporal exited (${server?.exitCode}): ${stderr}` : undefined));
    process.env.TEMPORAL_ADDRESS = address;
  }
  project.provide('temporalAddress', address);
  return async () => {
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((r) => server!.once('exit', r));
    }
  };
}

function findCli(): string {
  const candidates = [process.env.TEMPORAL_CLI, goBin(), 'temporal'].filter((c): c is string => !!c);
  for (const c of candidates) {
    if (c.includes('/') ? existsSync(c) : spawnSync(c, ['--version']).status === 0) return c;
  }
  throw new Error(
    'Temporal CLI not found: install it with `go install github.com/temporalio/cli/cmd/temporal@v1.5.1` ' +
      '(or set TEMPORAL_CLI to the binary, or TEMPORAL_ADDRESS to a running server)',
  );
}

function goBin(): string | undefined {
  const r = spawnSync('go', ['env', 'GOPATH'], { encoding: 'utf8' });
  return r.status === 0 ? join(r.stdout.trim(), 'bin', 'temporal') : undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function waitHealthy(address: string, died: () => string | undefined): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const dead = died();
    if (dead) throw new Error(dead);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
      return;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`Temporal dev server at ${address} not healthy after 60 s: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
