import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';

/** A Temporal dev server started by a test run or a benchmark. */
export interface DevServer {
  address: string;
  /** The dynamic config it was started with, for benchmark reports. */
  tuning: string[];
  stop(): Promise<void>;
}

/** Dynamic config that takes the dev server from about 100 ms to about 6 ms per activity hop (ENGINES.md). */
export const FAST_HOPS = ['history.transferProcessorMaxPollRPS=1000', 'history.timerProcessorMaxPollRPS=1000'];

/**
 * Starts `temporal server start-dev --headless` on free loopback ports and waits until it
 * answers. Throws a clear error when the CLI is missing or the server dies.
 */
export async function startDevServer(tuning: string[] = FAST_HOPS): Promise<DevServer> {
  const cli = findCli();
  const port = await freePort();
  const args = ['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'error'];
  args.push('--metrics-port', String(await freePort()), '--http-port', String(await freePort()));
  for (const t of tuning) args.push('--dynamic-config-value', t);
  const server: ChildProcess = spawn(cli, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  server.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const address = `127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (server.exitCode !== null || server.signalCode !== null) return;
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  };
  try {
    await waitHealthy(address, () => (server.exitCode !== null ? `temporal exited (${server.exitCode}): ${stderr}` : undefined));
  } catch (e) {
    await stop();
    throw e;
  }
  return { address, tuning, stop };
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
