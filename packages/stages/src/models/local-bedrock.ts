import type { ModelClient, TokenUsage } from '@baton/core';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { listenDual } from './local-bedrock-http.js';
import {
  accessDenied,
  converseResponse,
  errorFromModel,
  modelAllowed,
  outageError,
  parseConverse,
  type BedrockWireError,
  type LocalBedrockOutage,
} from './local-bedrock-wire.js';
import { createOfflineModel } from './offline.js';

export type { LocalBedrockOutage } from './local-bedrock-wire.js';
// the one-port HTTP/1.1 + cleartext HTTP/2 listener, for other local AWS stand-ins (@baton/local-aws' gateway)
export { listenDual, type DualHandler, type DualServer } from './local-bedrock-http.js';

/** Options of {@link startLocalBedrock}. */
export interface LocalBedrockOptions {
  /**
   * The model that answers: one client for every model id, or a factory called once per model id
   * (its client is kept for later calls of that id).
   * @default createOfflineModel() (the deterministic extractive stand-in, not a language model)
   */
  model?: ModelClient | ((modelId: string) => ModelClient);
  /**
   * Model ids, inference-profile ids or ARNs the caller may invoke; any other id gets HTTP 403
   * `AccessDeniedException`, as from a role without `bedrock:InvokeModel` on that model.
   * @default every id is allowed
   */
  models?: readonly string[];
  /** @default 0 (a free port) */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
}

/** One Converse call the server answered. */
export interface LocalBedrockRequest {
  /** The model id of the path, decoded. */
  modelId: string;
  /** ISO time the request arrived. */
  time: string;
  /** HTTP status of the answer. */
  status: number;
  /** `x-amzn-errortype` of an error answer. */
  errorType?: string;
  /** Token usage of a successful answer. */
  usage?: { inputTokens: number; outputTokens: number };
}

/**
 * A running local Bedrock server.
 *
 * @example
 * ```ts
 * const bedrock: LocalBedrock = await startLocalBedrock();
 * bedrock.setOutage('unavailable');            // every call: 503 ServiceUnavailableException
 * bedrock.setOutage(undefined);                // healthy again
 * const throttled = bedrock.requests.filter((r) => r.status === 429).length;
 * ```
 */
export interface LocalBedrock {
  /** Base URL: `clientConfig.endpoint` of a Bedrock client, or `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`. */
  readonly url: string;
  readonly port: number;
  /** Every Converse call, in arrival order (clear it with `requests.length = 0`). */
  readonly requests: LocalBedrockRequest[];
  /**
   * Switches a fault on (`undefined` switches it off): every call, or the next `times` calls, is
   * answered 429 `ThrottlingException`, 503 `ServiceUnavailableException` or 424
   * `ModelErrorException`, in the real error wire shape. Access checks still come first.
   */
  setOutage(kind: LocalBedrockOutage | undefined, options?: { times?: number }): void;
  close(): Promise<void>;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
  error?: BedrockWireError;
  usage?: TokenUsage;
}

const CONVERSE_PATH = /^\/model\/([^/?]+)\/converse(?:\?.*)?$/;

/**
 * Starts an HTTP server that speaks Amazon Bedrock Runtime's Converse API as the real
 * `@aws-sdk/client-bedrock-runtime` sends it (cleartext HTTP/2, the SDK's default, and HTTP/1.1 on
 * the same port), answered by a Baton {@link ModelClient}. It stands in for Bedrock, which has no
 * local server, in rehearsals and tests: the production client code (`createBedrockModel`) runs
 * unchanged, including its error mapping. A forced tool's input schema becomes the request's
 * `jsonSchema` and the JSON comes back as a `toolUse` block; usage, `metrics.latencyMs` and
 * `stopReason` are filled in. A StageError thrown by the model comes back as the matching Bedrock
 * error (ThrottlingException 429, ModelErrorException 424, ServiceUnavailableException 503,
 * ModelTimeoutException 408, ValidationException 400, AccessDeniedException 403; else
 * InternalServerException 500). Signatures are not verified. Only `converse` is served
 * (`converse-stream` and `invoke` answer 404 `UnknownOperationException`).
 *
 * Import it from `@baton/stages/local-bedrock`: the package root does not export it, so
 * production Lambda bundles do not carry it.
 *
 * @example
 * ```ts
 * import { startLocalBedrock } from '@baton/stages/local-bedrock';
 * const bedrock = await startLocalBedrock({ models: ['anthropic.claude-3-5-haiku-20241022-v1:0'] });
 * process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME = bedrock.url; // or clientConfig: { endpoint: bedrock.url }
 * const model = createBedrockModel({ modelId: 'anthropic.claude-3-5-haiku-20241022-v1:0' });
 * bedrock.setOutage('throttle', { times: 2 }); // the next two calls are throttled
 * await bedrock.close();
 * ```
 */
export async function startLocalBedrock(options: LocalBedrockOptions = {}): Promise<LocalBedrock> {
  const requests: LocalBedrockRequest[] = [];
  const clients = new Map<string, ModelClient>();
  const fixed = typeof options.model === 'function' ? undefined : (options.model ?? createOfflineModel());
  const factory = typeof options.model === 'function' ? options.model : undefined;
  const clientFor = (modelId: string): ModelClient => {
    if (fixed) return fixed;
    let c = clients.get(modelId);
    if (!c) clients.set(modelId, (c = factory!(modelId)));
    return c;
  };
  let outage: { kind: LocalBedrockOutage; remaining: number } | undefined;

  const answer = async (modelId: string, body: string, signal: AbortSignal): Promise<Answer> => {
    const fail = (error: BedrockWireError): Answer => ({ status: error.status, body: { message: error.message, ...error.extra }, error });
    if (options.models && !modelAllowed(options.models, modelId)) return fail(accessDenied(modelId));
    if (outage) {
      const kind = outage.kind;
      if (--outage.remaining <= 0) outage = undefined;
      return fail(outageError(kind, modelId));
    }
    const parsed = parseConverse(body);
    if ('status' in parsed) return fail(parsed);
    const started = Date.now();
    try {
      const res = await clientFor(modelId).complete(parsed.request, { signal });
      return {
        status: 200,
        body: converseResponse(res, parsed.forcedTool, `tooluse_${randomUUID().replaceAll('-', '')}`, Date.now() - started),
        usage: res.usage,
      };
    } catch (e) {
      return fail(errorFromModel(e, modelId));
    }
  };

  const handler = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): void => {
    const chunks: Buffer[] = [];
    const aborted = new AbortController();
    req.on('data', (c: Buffer) => chunks.push(c));
    res.on('close', () => {
      if (!res.writableFinished) aborted.abort();
    });
    req.on('end', () => {
      const time = new Date().toISOString();
      const match = req.method === 'POST' ? CONVERSE_PATH.exec(req.url ?? '') : null;
      const send = (status: number, body: Record<string, unknown>, errorType?: string): void => {
        const headers: Record<string, string> = { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID() };
        if (errorType) headers['x-amzn-errortype'] = `${errorType}:http://internal.amazon.com/coral/com.amazon.bedrock/`;
        if (!res.writableEnded) (res as ServerResponse).writeHead(status, headers).end(JSON.stringify(body));
      };
      if (!match) {
        send(
          404,
          { message: `This local Bedrock server serves POST /model/{modelId}/converse only, not ${req.method} ${req.url}` },
          'UnknownOperationException',
        );
        return;
      }
      const modelId = safeDecode(match[1]!);
      void answer(modelId, Buffer.concat(chunks).toString('utf8'), aborted.signal).then((out) => {
        const entry: LocalBedrockRequest = { modelId, time, status: out.status };
        if (out.error) entry.errorType = out.error.type;
        if (out.usage) entry.usage = { inputTokens: out.usage.inputTokens, outputTokens: out.usage.outputTokens };
        requests.push(entry);
        send(out.status, out.body, out.error?.type);
      });
    });
  };

  const host = options.host ?? '127.0.0.1';
  const server = await listenDual(handler, host, options.port ?? 0);
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${server.port}`,
    port: server.port,
    requests,
    setOutage(kind, opts) {
      outage = kind === undefined ? undefined : { kind, remaining: opts?.times ?? Number.POSITIVE_INFINITY };
    },
    close: () => server.close(),
  };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
