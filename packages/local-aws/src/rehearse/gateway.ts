import { listenDual } from '@baton/stages/local-bedrock';
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { describeCall, type CallDescription } from './describe-call.js';
import { describePrincipal, type Principal, type PrincipalRegistry } from './principals.js';
import { signRequest, signatureScope, type Credentials } from './sign.js';

type AnyRequest = IncomingMessage | Http2ServerRequest;
type AnyResponse = ServerResponse | Http2ServerResponse;

/** Options of {@link startGateway}. */
export interface GatewayOptions {
  region: string;
  account: string;
  registry: PrincipalRegistry;
  /** The rehearsal admin's keys: requests moto cannot authorise are forwarded signed with them. */
  admin: Credentials;
  /** Where each service is served: moto (S3, SQS, SNS, Secrets Manager, EventBridge, X-Ray, IAM, STS…), the local Bedrock, SFN and Lambda servers. */
  upstreams: { moto: string; bedrock?: string; states?: string; lambda?: string };
  /** Full ARN of a secret the rehearsal created, from its id (name, partial or full ARN). */
  secretArn?: (id: string) => string | undefined;
  /** @default 0 (a free port) */
  port?: number;
}

/** A running gateway. */
export interface Gateway {
  /** The one endpoint of every AWS service of the rehearsal (`AWS_ENDPOINT_URL`). */
  url: string;
  close(): Promise<void>;
}

/** Services whose requests moto authorises with their real resource ARN: forwarded untouched, moto decides. */
const MOTO_AUTHORISED = new Set(['s3', 'sqs', 'iam', 'sts']);
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'http2-settings', 'te', 'host']);

/**
 * The rehearsal's single AWS endpoint: every SDK client of every function (and of the test or
 * CLI) points at it, and it routes each request by its SigV4 signing name to moto, the local
 * Bedrock server, the local Step Functions or Lambda endpoint. It is where IAM is enforced that
 * moto does not enforce itself:
 *
 * - S3, SQS, IAM, STS: moto authorises the caller's own policies against the request's resource
 *   ARN; the request goes through untouched (moto checks the signature) and a refusal is recorded.
 *   What moto leaves out: a missing S3 key read by a role without `s3:ListBucket` is answered 403
 *   (as S3 does), not 404.
 * - Services moto authorises against `*` only (SNS, Secrets Manager, EventBridge, X-Ray, CloudWatch
 *   Logs… where a statement naming an ARN would never match, and X-Ray under other action names),
 *   Bedrock, Step Functions and Lambda: a role's request is decided here with the role's statements
 *   (H6's evaluator) on the action and resource named by {@link describeCall}; a refusal answers
 *   the service's AccessDenied error, and an allowed moto request is forwarded signed as the admin.
 *
 * HTTP/1.1 and cleartext HTTP/2 (the Bedrock Runtime client's default) on one port.
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const handle = async (req: AnyRequest, res: AnyResponse): Promise<void> => {
    const body = await readBody(req);
    const url = req.url ?? '/';
    const headers = req.headers as IncomingHttpHeaders;
    const scope = signatureScope(single(headers.authorization), url);
    const service = scope?.service ?? 's3';
    const principal = options.registry.principalOf(scope?.accessKeyId);
    const call = describeCall({
      service,
      region: scope?.region ?? options.region,
      account: options.account,
      method: req.method ?? 'GET',
      url,
      headers,
      body,
      ...(options.secretArn ? { secretArn: options.secretArn } : {}),
    });
    const upstream =
      service === 'bedrock'
        ? options.upstreams.bedrock
        : service === 'states'
          ? options.upstreams.states
          : service === 'lambda'
            ? options.upstreams.lambda
            : options.upstreams.moto;
    if (!upstream) return reply(res, denialResponse(headers, 404, 'UnknownOperationException', `the rehearsal serves no ${service} endpoint`));
    const toMoto = upstream === options.upstreams.moto;
    if (toMoto && MOTO_AUTHORISED.has(service)) {
      const answer = await forward(upstream, req.method ?? 'GET', url, headers, body);
      if (answer.status === 403 && /AccessDenied/.test(answer.body.toString('utf8')))
        options.registry.deny(principal ?? `key ${scope?.accessKeyId ?? '(unsigned)'}`, call.action, call.resources[0] ?? '*', 'moto');
      if (service === 's3' && answer.status === 404 && principal?.kind === 'role') {
        // S3 answers a missing key with 403, not 404, to a caller without s3:ListBucket on the bucket; moto does not
        const bucket = /^arn:aws:s3:::([^/]+)\/./.exec(call.resources[0] ?? '')?.[1];
        if (bucket && !options.registry.allows(principal, 's3:ListBucket', `arn:aws:s3:::${bucket}`)) {
          options.registry.deny(principal, 's3:ListBucket', `arn:aws:s3:::${bucket}`, 'gateway');
          return reply(res, {
            status: 403,
            headers: { 'content-type': 'application/xml' },
            body: Buffer.from('<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>'),
          });
        }
      }
      return reply(res, answer);
    }
    if (principal?.kind === 'role') {
      const refused = call.resources.find((r) => !options.registry.allows(principal, call.action, r));
      if (refused !== undefined) {
        options.registry.deny(principal, call.action, refused, service === 'bedrock' ? 'bedrock' : 'gateway');
        return reply(
          res,
          denialResponse(
            headers,
            service === 'sns' || !headers['x-amz-target'] ? 403 : 400,
            service === 'sns' ? 'AuthorizationError' : 'AccessDeniedException',
            notAuthorised(principal, call, refused, options.account),
          ),
        );
      }
      if (toMoto) {
        const resigned = await signRequest(
          { method: req.method ?? 'GET', url: upstream + url, headers: plainHeaders(headers), body },
          service,
          scope!.region,
          options.admin,
        );
        return reply(res, await forward(upstream, req.method ?? 'GET', url, resigned, body));
      }
    } else if (!toMoto && principal?.kind !== 'admin') {
      // moto checks every key itself; the local servers check none, so a key the rehearsal did not make is refused here
      return reply(
        res,
        denialResponse(
          headers,
          403,
          'UnrecognizedClientException',
          `The security token included in the request is invalid (access key ${scope?.accessKeyId ?? 'none'} is not one of the rehearsal's)`,
        ),
      );
    }
    return reply(res, await forward(upstream, req.method ?? 'GET', url, headers, body));
  };
  const host = '127.0.0.1';
  const server = await listenDual(
    (req, res) => {
      handle(req, res).catch((e: unknown) =>
        reply(res, denialResponse(req.headers as IncomingHttpHeaders, 502, 'InternalFailure', `rehearsal gateway: ${(e as Error).message}`)),
      );
    },
    host,
    options.port ?? 0,
  );
  return { url: `http://${host}:${server.port}`, close: () => server.close() };
}

/** `User: <arn> is not authorized to perform: <action> on resource: <arn>`, as AWS words it. */
function notAuthorised(principal: Principal, call: CallDescription, resource: string, account: string): string {
  const who =
    principal.kind === 'role'
      ? `arn:aws:sts::${account}:assumed-role/${principal.roleName}/${principal.usedBy[0] ?? 'rehearsal'}`
      : describePrincipal(principal);
  return `User: ${who} is not authorized to perform: ${call.action} on resource: ${resource} because no identity-based policy allows the ${call.action} action`;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/** The error an AWS service answers, in the request's protocol: JSON (X-Amz-Target or REST JSON) or query XML. */
function denialResponse(headers: IncomingHttpHeaders, status: number, code: string, message: string): Answer {
  const query = !headers['x-amz-target'] && String(headers['content-type'] ?? '').includes('x-www-form-urlencoded');
  if (query) {
    const xml = `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>rehearsal</RequestId></ErrorResponse>`;
    return { status, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': 'rehearsal' }, body: Buffer.from(xml) };
  }
  const json = headers['x-amz-target'] ? { __type: code, message } : { message };
  return {
    status,
    headers: { 'content-type': 'application/json', 'x-amzn-errortype': code, 'x-amzn-requestid': 'rehearsal' },
    body: Buffer.from(JSON.stringify(json)),
  };
}

function forward(upstream: string, method: string, path: string, headers: IncomingHttpHeaders | Record<string, string>, body: Buffer): Promise<Answer> {
  const target = new URL(upstream);
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !k.startsWith(':') && k !== 'connection' && k !== 'transfer-encoding') out[k] = v;
  // the signature covers the host the client addressed: keep it (HTTP/2 carries it as :authority)
  out.host = single((headers as IncomingHttpHeaders).host) ?? single((headers as Record<string, string>)[':authority']) ?? target.host;
  out['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: target.hostname, port: target.port, method, path, headers: out }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers as Record<string, string | string[]>, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function reply(res: AnyResponse, answer: Answer): void {
  if (res.headersSent) return;
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(answer.headers)) if (!HOP_BY_HOP.has(k.toLowerCase()) && v !== undefined) headers[k] = v;
  headers['content-length'] = String(answer.body.length);
  (res as ServerResponse).writeHead(answer.status, headers);
  res.end(answer.body);
}

function readBody(req: AnyRequest): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function plainHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !k.startsWith(':')) out[k] = Array.isArray(v) ? v.join(',') : v;
  return out;
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
