import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

/** A moto server (PyPI `moto[server]`) for S3, Secrets Manager, SNS and SQS, or the one MOTO_ENDPOINT names. */
export interface TestMoto {
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * Starts `moto_server` on a free loopback port: MOTO_SERVER, else `<repo>/.venv-moto/bin/moto_server`
 * (what scripts/prereqs.sh installs), else PATH. Fails saying what to install when it is nowhere.
 */
export async function startMoto(): Promise<TestMoto> {
  if (process.env.MOTO_ENDPOINT) return { endpoint: process.env.MOTO_ENDPOINT, stop: async () => undefined };
  const port = await freePort();
  const child: ChildProcess = spawn(motoBinary(), ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with code ${child.exitCode}: ${stderr}`);
    if (await fetch(`${endpoint}/moto-api/`).then((r) => r.status < 500, () => false)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moto_server did not answer on ${endpoint} within 20 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    endpoint,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function motoBinary(): string {
  const candidates = [process.env.MOTO_SERVER, join(resolve(import.meta.dirname, '../../../..'), '.venv-moto', 'bin', 'moto_server')].filter((c): c is string => Boolean(c));
  for (const c of candidates) if (existsSync(c)) return c;
  const which = spawnSync('sh', ['-c', 'command -v moto_server'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim();
  throw new Error('moto_server not found: run scripts/prereqs.sh (or python3 -m venv .venv-moto && .venv-moto/bin/pip install "moto[server]"), or set MOTO_SERVER or MOTO_ENDPOINT');
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const server = createServer();
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      server.close(() => (typeof a === 'object' && a ? res(a.port) : rej(new Error('no port'))));
    });
  });
}
