import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestPostgres } from '@baton/registry/testkit/postgres';

/** A server process started by the test setup. */
export interface Service {
  address: string;
  stop(): Promise<void>;
}

/** A free loopback TCP port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Starts Debian's redis-server on a free loopback port (no persistence: tests only). */
export async function startRedis(): Promise<Service> {
  const bin = process.env.REDIS_SERVER_BIN ?? 'redis-server';
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'baton-cli-redis-'));
  const child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  await waitListening(child, port, `cannot start ${bin} (install it: apt-get install -y redis-server, or set REDIS_URL)`, 10_000);
  return { address: `redis://127.0.0.1:${port}`, stop: () => stop(child) };
}

/**
 * Starts `temporal server start-dev --headless` on free loopback ports, with the dynamic config
 * that takes an activity hop from about 100 ms to about 6 ms (ENGINES.md).
 */
export async function startTemporal(): Promise<Service> {
  const cli = findTemporalCli();
  const port = await freePort();
  const args = ['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'error'];
  for (const flag of ['--metrics-port', '--http-port', '--ui-port']) args.push(flag, String(await freePort()));
  for (const v of ['history.transferProcessorMaxPollRPS=1000', 'history.timerProcessorMaxPollRPS=1000']) args.push('--dynamic-config-value', v);
  const child = spawn(cli, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  await waitListening(child, port, `cannot start ${cli}`, 60_000);
  return { address: `127.0.0.1:${port}`, stop: () => stop(child) };
}

/** Starts a throwaway PostgreSQL on a free loopback port: the registry's test server (Debian `postgresql`). */
export async function startPostgres(): Promise<Service> {
  const pg = await startTestPostgres();
  return { address: pg.url, stop: pg.stop };
}

function findTemporalCli(): string {
  const gopath = spawnSync('go', ['env', 'GOPATH'], { encoding: 'utf8' });
  const candidates = [process.env.TEMPORAL_CLI, gopath.status === 0 ? join(gopath.stdout.trim(), 'bin', 'temporal') : undefined, 'temporal'];
  for (const c of candidates) {
    if (c && (c.includes('/') ? existsSync(c) : spawnSync(c, ['--version']).status === 0)) return c;
  }
  throw new Error(
    'Temporal CLI not found: install it with `go install github.com/temporalio/cli/cmd/temporal@v1.5.1` (or set TEMPORAL_CLI to the binary, or TEMPORAL_ADDRESS to a running server)',
  );
}

async function waitListening(child: ChildProcess, port: number, what: string, timeoutMs: number): Promise<void> {
  let stderr = '';
  let spawnError: Error | undefined;
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.once('error', (e) => (spawnError = e));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (spawnError) throw new Error(`${what}: ${spawnError.message}`);
    if (child.exitCode !== null) throw new Error(`${what}: exited with ${child.exitCode}: ${stderr}`);
    if (await answers(port)) return;
    if (Date.now() > deadline) {
      await stop(child);
      throw new Error(`${what}: not listening on ${port} after ${timeoutMs} ms: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}
