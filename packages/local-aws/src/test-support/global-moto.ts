import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    motoEndpoint: string;
  }
}

/**
 * vitest globalSetup of the `moto` project (as packages/stages' one): starts moto server (PyPI
 * `moto[server]`) on a free loopback port, or uses MOTO_ENDPOINT. Looks for `moto_server` in
 * MOTO_SERVER, then in `<repo>/.venv-moto/bin`, then on PATH.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.MOTO_ENDPOINT) {
    project.provide('motoEndpoint', process.env.MOTO_ENDPOINT);
    return async () => undefined;
  }
  const port = await freePort();
  const child: ChildProcess = spawn(motoBinary(), ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  while (!(await fetch(`${endpoint}/moto-api/`).then((r) => r.status < 500, () => false))) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with code ${child.exitCode}: ${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moto_server did not answer on ${endpoint} within 20 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  project.provide('motoEndpoint', endpoint);
  return async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
}

function motoBinary(): string {
  const candidates = [process.env.MOTO_SERVER, join(resolve(import.meta.dirname, '../../../..'), '.venv-moto', 'bin', 'moto_server')].filter((c): c is string => Boolean(c));
  for (const c of candidates) if (existsSync(c)) return c;
  const which = spawnSync('sh', ['-c', 'command -v moto_server'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim();
  throw new Error('moto_server not found: python3 -m venv .venv-moto && .venv-moto/bin/pip install "moto[server]" (at the repo root), or set MOTO_SERVER, or MOTO_ENDPOINT=http://host:port of a running moto server.');
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
