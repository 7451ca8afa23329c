import { createServer as createHttp1Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttp2Server, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { Duplex } from 'node:stream';

/** A request handler that serves both protocols. */
export type DualHandler = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => void;

/** A listening server of {@link listenDual}. */
export interface DualServer {
  port: number;
  close(): Promise<void>;
}

// Every HTTP/2 connection opens with this preface (RFC 9113 §3.4); no HTTP/1.1 request starts with "PRI".
const H2_PREFACE_START = Buffer.from('PRI');

/**
 * Listens on one port for HTTP/1.1 and for cleartext HTTP/2 with prior knowledge. The Bedrock
 * Runtime SDK client speaks the latter by default (its request handler is `NodeHttp2Handler`),
 * while curl and `fetch` speak the former; Node's `allowHTTP1` only works over TLS. So the first
 * bytes of each connection pick the protocol.
 */
export async function listenDual(handler: DualHandler, host: string, port: number): Promise<DualServer> {
  const h1 = createHttp1Server(handler);
  const h2 = createHttp2Server(handler);
  const sockets = new Set<Socket>();
  const tcp = createTcpServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    let head = Buffer.alloc(0);
    const sniff = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      if (head.length < H2_PREFACE_START.length) return;
      socket.off('data', sniff);
      socket.pause();
      if (head.subarray(0, H2_PREFACE_START.length).equals(H2_PREFACE_START)) {
        // http2 reads from the socket's native handle and would miss bytes unshifted into the JS
        // stream, so it gets a stream that replays them first.
        h2.emit('connection', replaying(socket, head));
      } else {
        socket.unshift(head);
        h1.emit('connection', socket);
        socket.resume();
      }
    };
    socket.on('data', sniff);
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(port, host, () => resolve());
  });
  const address = tcp.address();
  if (typeof address !== 'object' || !address) throw new Error('local Bedrock server: no address');
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        tcp.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

/** A duplex over `socket` that first yields `head` (bytes already read from it). */
function replaying(socket: Socket, head: Buffer): Duplex {
  const stream = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, encoding, callback) {
      socket.write(chunk, encoding, callback);
    },
    final(callback) {
      socket.end();
      callback();
    },
    destroy(error, callback) {
      socket.destroy(error ?? undefined);
      callback(error);
    },
  });
  stream.push(head);
  socket.on('data', (chunk: Buffer) => {
    if (!stream.push(chunk)) socket.pause();
  });
  socket.on('end', () => stream.push(null));
  socket.on('error', (e) => stream.destroy(e));
  socket.on('close', () => stream.destroy());
  return stream;
}
