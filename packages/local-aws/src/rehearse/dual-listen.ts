import { createServer as createHttp1Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttp2Server, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { Duplex } from 'node:stream';

/** A request of either protocol. */
export type AnyRequest = IncomingMessage | Http2ServerRequest;
/** A response of either protocol. */
export type AnyResponse = ServerResponse | Http2ServerResponse;

/** A listening server of {@link listenHttp1And2}. */
export interface ListeningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Listens on one loopback port for HTTP/1.1 and for cleartext HTTP/2 with prior knowledge: most
 * AWS SDK clients speak the former, the Bedrock Runtime client the latter (its default handler is
 * `NodeHttp2Handler`), and Node's `allowHTTP1` works only over TLS. The first bytes of a
 * connection pick the protocol: every HTTP/2 connection opens with the preface "PRI * HTTP/2.0".
 */
export async function listenHttp1And2(handler: (req: AnyRequest, res: AnyResponse) => void, port = 0, host = '127.0.0.1'): Promise<ListeningServer> {
  const h1 = createHttp1Server(handler);
  const h2 = createHttp2Server(handler);
  const sockets = new Set<Socket>();
  const tcp = createTcpServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let head = Buffer.alloc(0);
    const sniff = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      if (head.length < 3) return;
      socket.off('data', sniff);
      socket.pause();
      if (head.subarray(0, 3).toString('latin1') === 'PRI') h2.emit('connection', replaying(socket, head));
      else {
        socket.unshift(head);
        h1.emit('connection', socket);
        socket.resume();
      }
    };
    socket.on('data', sniff);
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(port, host, () => resolve());
  });
  const address = tcp.address();
  if (typeof address !== 'object' || !address) throw new Error('no address to listen on');
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        tcp.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

/** A duplex over `socket` that yields `head` first: http2 reads a socket's native handle and would miss bytes put back into its JS stream. */
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
  socket.on('close', () => stream.destroy());
  return stream;
}
