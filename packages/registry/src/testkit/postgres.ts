import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** A PostgreSQL server started for tests, or the one DATABASE_URL names. */
export interface TestPostgres {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts a throwaway PostgreSQL (Debian `postgresql` binaries: initdb + postgres) on a free
 * loopback port, as the `postgres` user when running as root (postgres refuses to run as root).
 * The superuser `baton` of the returned URL needs no password; any other role must sign in
 * with its password (scram-sha-256), so tests can exercise a refused password.
 * With DATABASE_URL set, uses that server instead. Throws a clear error when neither works.
 */
export async function startTestPostgres(): Promise<TestPostgres> {
  if (process.env.DATABASE_URL) {
    await waitReady(process.env.DATABASE_URL, 5_000);
    return { url: process.env.DATABASE_URL, stop: async () => undefined };
  }
  const bin = postgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'baton-pg-'));
  // postgres refuses to run as root: drop to the `postgres` user (the child is postgres itself,
  // not a runuser wrapper, so signals reach it)
  let as: { uid: number; gid: number } | undefined;
  if (process.getuid?.() === 0) {
    as = { uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()) };
    chownSync(dir, as.uid, as.gid);
  }
  const env = { ...process.env, LC_ALL: 'C' };
  const data = join(dir, 'data');
  try {
    execFileSync(join(bin, 'initdb'), ['-D', data, '-U', 'baton', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions'], {
      stdio: 'pipe',
      cwd: dir,
      env,
      ...as,
    });
  } catch (e) {
    throw new Error(`initdb failed (is Debian "postgresql" installed?): ${String((e as { stderr?: Buffer }).stderr ?? e)}`);
  }
  // overwriting keeps the file's owner (postgres) and mode
  writeFileSync(join(data, 'pg_hba.conf'), PG_HBA);
  const port = await freePort();
  const args = [
    '-D',
    data,
    '-p',
    String(port),
    '-h',
    '127.0.0.1',
    '-k',
    dir,
    '-c',
    'fsync=off',
    '-c',
    'synchronous_commit=off',
    '-c',
    'full_page_writes=off',
    '-c',
    'max_connections=50',
  ];
  const child: ChildProcess = spawn(join(bin, 'postgres'), args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir, env, ...as });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `postgres://baton@127.0.0.1:${port}/postgres`;
  try {
    await waitReady(url, 20_000, child);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`PostgreSQL did not start on port ${port}: ${(e as Error).message}\n${stderr}`);
  }
  return {
    url,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGINT'); // fast shutdown: disconnects clients instead of waiting for them
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(killer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const PG_HBA = [
  'local all all trust',
  'host all baton 127.0.0.1/32 trust',
  'host all all 127.0.0.1/32 scram-sha-256',
  'host all baton ::1/128 trust',
  'host all all ::1/128 scram-sha-256',
  '',
].join('\n');

function postgresBinDir(): string {
  if (process.env.POSTGRES_BIN) return process.env.POSTGRES_BIN;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0] === undefined) {
    throw new Error('PostgreSQL binaries not found under /usr/lib/postgresql: apt-get install -y postgresql, or set DATABASE_URL or POSTGRES_BIN');
  }
  return join(root, versions[0], 'bin');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitReady(url: string, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`postgres exited with code ${child.exitCode}`);
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return;
    } catch (e) {
      last = e;
      await client.end().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`cannot connect to ${url}: ${(last as Error | undefined)?.message ?? 'timeout'}`);
}
