import { connect } from 'node:net';
import { CliError } from '../errors.js';

/**
 * Checks that a TCP service answers before an engine SDK is pointed at it: Redis and Temporal
 * clients retry forever on a refused connection, so without this a typo in an address hangs.
 */
export async function assertReachable(service: string, host: string, port: number, hint: string, timeoutMs = 3000): Promise<void> {
  const problem = await new Promise<string | undefined>((resolve) => {
    const socket = connect({ host, port });
    const done = (p: string | undefined): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(p);
    };
    const timer = setTimeout(() => done(`no answer within ${timeoutMs} ms`), timeoutMs);
    socket.once('connect', () => done(undefined));
    socket.once('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
  });
  if (problem) throw new CliError(`cannot reach ${service} at ${host}:${port} (${problem}). ${hint}`);
}

/** Host and port of `host:port`, `[v6]:port` or a URL, with a default port. */
export function hostPort(address: string, defaultPort: number): { host: string; port: number } {
  const u = new URL(address.includes('://') ? address : `tcp://${address}`);
  const host = u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  return { host, port: u.port ? Number(u.port) : defaultPort };
}
