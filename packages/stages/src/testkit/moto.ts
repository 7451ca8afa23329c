import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

/** A running moto server (PyPI `moto[server]`): S3, SQS, SNS, EventBridge, Secrets Manager, IAM… in memory. */
export interface TestMoto {
  /** `http://127.0.0.1:<port>`: the endpoint of every service. */
  endpoint: string;
  /** Stops the server this call started (a server given by MOTO_ENDPOINT is left alone). */
  stop(): Promise<void>;
}

/** Options of {@link startMoto}. */
export interface StartMotoOptions {
  /**
   * Extra environment of the server, e.g. `{ INITIAL_NO_AUTH_ACTION_COUNT: '20' }` to enforce IAM
   * after the first 20 requests (see shared ENGINES.md). With it, MOTO_ENDPOINT is not used: a
   * shared server could not enforce for this caller alone.
   */
  env?: Record<string, string>;
}

/**
 * Starts `moto_server` on a free loopback port for tests, or uses MOTO_ENDPOINT (or S3_ENDPOINT)
 * when set. Looks for the binary in MOTO_SERVER, then `<repo>/.venv-moto/bin/moto_server` (what
 * scripts/prereqs.sh installs), then PATH, and fails saying what to install when it is nowhere.
 * A test tool: nothing of Baton's runtime uses it.
 *
 * @example
 * ```ts
 * const moto = await startMoto();
 * const s3 = new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials });
 * await moto.stop();
 * ```
 */
export async function startMoto(options: StartMotoOptions = {}): Promise<TestMoto> {
  const given = process.env.MOTO_ENDPOINT ?? process.env.S3_ENDPOINT;
  if (given && !options.env) return { endpoint: given, stop: async () => undefined };
  const port = await freePort();
  const binary = motoBinary();
  const python = pythonOf(binary);
  const args = ['-H', '127.0.0.1', '-p', String(port)];
  const child: ChildProcess = spawn(python ?? binary, python ? ['-c', ITEM_ATOMIC_MOTO, ...args] : args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with code ${child.exitCode}: ${stderr}`);
    const up = await fetch(`${endpoint}/moto-api/`).then(
      (r) => r.status < 500,
      () => false,
    );
    if (up) break;
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

/**
 * moto's server answers requests on threads, and its DynamoDB applies a `ConditionExpression`
 * without a lock: two conditional writes on one item can both pass, so a compare-and-swap loses
 * an update, and a read can see an item half written, which DynamoDB (atomic per item) never
 * shows. This launcher runs moto_server with its DynamoDB requests one at a time (parse, apply,
 * answer under one lock), so conditional writes behave as on AWS.
 */
const ITEM_ATOMIC_MOTO = `
import functools, sys, threading
from moto.dynamodb.responses import DynamoHandler
lock = threading.Lock()
call_action = DynamoHandler.call_action
@functools.wraps(call_action)
def one_at_a_time(self):
    with lock:
        return call_action(self)
DynamoHandler.call_action = one_at_a_time
from moto.server import main
main(sys.argv[1:])
`;

/** The Python interpreter of a `moto_server` console script (its shebang), when it has one. */
function pythonOf(binary: string): string | undefined {
  try {
    const first = readFileSync(binary, 'utf8').slice(0, 512).split('\n')[0] ?? '';
    const interpreter = first.startsWith('#!') ? first.slice(2).trim() : '';
    return interpreter && !interpreter.includes(' ') && existsSync(interpreter) ? interpreter : undefined;
  } catch {
    return undefined;
  }
}

function motoBinary(): string {
  const candidates = [process.env.MOTO_SERVER, join(resolve(import.meta.dirname, '../../../..'), '.venv-moto', 'bin', 'moto_server')].filter((c): c is string =>
    Boolean(c),
  );
  for (const c of candidates) if (existsSync(c)) return c;
  const which = spawnSync('sh', ['-c', 'command -v moto_server'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim();
  throw new Error(
    'moto_server not found: run scripts/prereqs.sh (or python3 -m venv .venv-moto && .venv-moto/bin/pip install "moto[server]" at the repo root), or set MOTO_SERVER=/path/to/moto_server or MOTO_ENDPOINT=http://host:port',
  );
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
