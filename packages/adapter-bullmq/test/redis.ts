import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** A redis-server started by a test. */
export interface RedisServer {
  url: string;
  port: number;
  dir: string;
  /** Graceful stop (SIGTERM: Redis flushes its AOF), or SIGKILL. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts the server again on the same port and data directory. */
  restart(): Promise<void>;
  /** Stops the server for good and removes its data directory (its AOF grows to tens of MB). */
  close(): Promise<void>;
}

const BIN = process.env.REDIS_SERVER_BIN ?? 'redis-server';

/** A free loopback TCP port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Starts Debian's redis-server on a free loopback port with AOF on and RDB snapshots off. */
export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'baton-redis-'));
  let proc: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    const p = spawn(BIN, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--daemonize', 'no'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    proc = p;
    let failure = '';
    p.stderr?.on('data', (d: Buffer) => (failure += d.toString()));
    const spawnError = new Promise<never>((_, reject) =>
      p.on('error', (e) => reject(new Error(`cannot start ${BIN} (install it: apt-get install -y redis-server, or set REDIS_URL): ${e.message}`))),
    );
    const deadline = Date.now() + 10_000;
    for (;;) {
      const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => undefined);
      const ok = await Promise.race([
        probe.connect().then(
          () => probe.ping().then(() => true),
          () => false,
        ),
        spawnError,
      ]).finally(() => probe.disconnect());
      if (ok) return;
      if (p.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start on port ${port}: ${failure}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await launch();
  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> => {
    const p = proc;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill(signal);
    });
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    stop,
    restart: launch,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
