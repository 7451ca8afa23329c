import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Reads a request body whole, refusing one above `limit` bytes (`undefined` then). */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  }
  return size > limit ? undefined : Buffer.concat(chunks);
}

/**
 * The access key id a SigV4-signed request was signed with: `Credential=<id>/<date>/<region>/...`
 * in the `Authorization` header (or `X-Amz-Credential` of a presigned URL); '' when unsigned.
 * The signature itself is not checked: the endpoint knows no secrets.
 */
export function accessKeyOf(req: IncomingMessage): string {
  const header = req.headers.authorization ?? '';
  const signed = /Credential=([^/,\s]+)\//.exec(header)?.[1];
  if (signed) return signed;
  const query = new URL(req.url ?? '/', 'http://local').searchParams.get('X-Amz-Credential');
  return query?.split('/')[0] ?? '';
}

/** Writes a JSON (or raw string) response. */
export function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Starts an HTTP server on 127.0.0.1 (port 0: a free one) and returns it with its base URL. */
export async function listen(handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>, port = 0): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    handler(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, { __type: 'ServiceException', message: (e as Error).message ?? String(e) });
      else res.destroy();
    });
  });
  // SDK clients keep idle connections without a timeout of their own: closing them early makes a
  // request race the close (ECONNRESET), which an integration client without retries would report
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 125_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** Stops a server started by {@link listen}, dropping idle keep-alive connections. */
export async function close(server: Server): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
