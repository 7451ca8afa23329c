import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createH2Server, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';

/** A scripted reply of the stub server. */
export interface StubReply {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

/** A recorded request. */
export interface StubRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A local HTTP server that answers from a script and records every request. */
export interface HttpStub {
  url: string;
  requests: StubRequest[];
  /** Queues replies, answered in order; the last one repeats. */
  reply(...replies: StubReply[]): void;
  close(): Promise<void>;
}

/**
 * Starts a stub server on a free loopback port. `http2` serves cleartext HTTP/2 with prior
 * knowledge, which is what the Bedrock runtime SDK client speaks by default.
 */
export async function startHttpStub(options: { http2?: boolean } = {}): Promise<HttpStub> {
  const requests: StubRequest[] = [];
  let queue: StubReply[] = [{ status: 500, body: '{"message":"no reply scripted"}' }];
  const handler = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const r = queue.length > 1 ? queue.shift()! : queue[0]!;
      // one shape for both servers (their writeHead overloads differ in @types/node 24)
      for (const [name, value] of Object.entries({ 'content-type': 'application/json', ...r.headers })) res.setHeader(name, value);
      res.statusCode = r.status;
      res.end(r.body);
    });
  };
  const server = options.http2 ? createH2Server(handler) : createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('no address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    reply: (...replies) => {
      queue = replies;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
