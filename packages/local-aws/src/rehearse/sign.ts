import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';

type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytes(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** An access key pair. */
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** A request to sign and send: what {@link signedFetch} and the gateway's re-signing take. */
export interface PlainRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

/** SHA-256 (and HMAC-SHA-256 with a secret) for `@smithy/signature-v4`, on node:crypto. */
class Sha256 {
  private hash: Hash | Hmac;
  private readonly secret: Buffer | undefined;
  constructor(secret?: SourceData) {
    this.secret = secret === undefined ? undefined : bytes(secret);
    this.hash = this.secret ? createHmac('sha256', this.secret) : createHash('sha256');
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
  reset(): void {
    this.hash = this.secret ? createHmac('sha256', this.secret) : createHash('sha256');
  }
}

/**
 * Signs a request with SigV4 for `service` in `region`: the headers to send (host, x-amz-date,
 * x-amz-content-sha256, authorization, plus those given).
 */
export async function signRequest(request: PlainRequest, service: string, region: string, credentials: Credentials): Promise<Record<string, string>> {
  const url = new URL(request.url);
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  const signer = new SignatureV4({ service, region, credentials, sha256: Sha256, uriEscapePath: service !== 's3' });
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(request.headers)) if (!UNSIGNED.has(k.toLowerCase())) headers[k.toLowerCase()] = v;
  headers.host = url.host;
  const signed = await signer.sign({
    method: request.method,
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: decodeURIComponent(url.pathname),
    query,
    headers,
    ...(request.body === undefined ? {} : { body: request.body }),
  });
  return signed.headers;
}

// headers a proxy must not carry over into a new signature
const UNSIGNED = new Set([
  'authorization',
  'x-amz-date',
  'x-amz-security-token',
  'x-amz-content-sha256',
  'host',
  'content-length',
  'connection',
  'transfer-encoding',
  'expect',
]);

/** Sends a SigV4-signed request with fetch and returns status and body text. */
export async function signedFetch(request: PlainRequest, service: string, region: string, credentials: Credentials): Promise<{ status: number; text: string }> {
  const headers = await signRequest(request, service, region, credentials);
  const res = await fetch(request.url, { method: request.method, headers, ...(request.body === undefined ? {} : { body: request.body }) });
  return { status: res.status, text: await res.text() };
}

/** The access key id, region and service of a SigV4 `Authorization` header (or presigned query). */
export function signatureScope(authorization: string | undefined, url?: string): { accessKeyId: string; region: string; service: string } | undefined {
  const fromHeader = authorization ? /Credential=([^/,\s]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(authorization) : null;
  const fromQuery = !fromHeader && url ? /[?&]X-Amz-Credential=([^/&]+)(?:\/|%2F)\d{8}(?:\/|%2F)([^/&%]+)(?:\/|%2F)([^/&%]+)/i.exec(url) : null;
  const m = fromHeader ?? fromQuery;
  return m ? { accessKeyId: decodeURIComponent(m[1]!), region: m[2]!, service: m[3]! } : undefined;
}
