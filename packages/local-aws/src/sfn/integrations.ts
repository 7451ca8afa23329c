import { EventBridgeClient, PutEventsCommand, type PutEventsCommandInput } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, LambdaClient, type InvocationType, type LogType } from '@aws-sdk/client-lambda';
import { PublishCommand, SNSClient, type PublishCommandInput } from '@aws-sdk/client-sns';
import { SendMessageCommand, SQSClient, type SendMessageCommandInput } from '@aws-sdk/client-sqs';
import { taskError } from './errors.js';

/** Endpoints of the services Task states call. */
export interface ServiceEndpoints {
  lambda: string;
  sqs?: string;
  sns?: string;
  events?: string;
}

/** Credentials a state machine's service calls are signed with. */
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** A Task state's resource, resolved to the call it makes. */
export interface Integration {
  /** `lambda`, `sqs`... as TaskScheduled reports it; `function` for a plain Lambda ARN (LambdaFunction* events). */
  resourceType: string;
  /** `invoke`, `sendMessage.waitForTaskToken`... or the function ARN. */
  resource: string;
  /** `.waitForTaskToken`: the Task ends when its token is answered. */
  callback: boolean;
  /** Calls the service with the Task's effective parameters; resolves with the Task result, rejects with the ASL error. */
  call(params: unknown): Promise<unknown>;
}

const SERVICE = /^arn:aws[\w-]*:states:::(lambda|sqs|sns|events):(\w+)(\.waitForTaskToken)?$/;
const FUNCTION = /^arn:aws[\w-]*:lambda:[^:]*:\d*:function:[^:]+(:[^:]+)?$/;

/**
 * The service integrations of the local Step Functions endpoint: `lambda:invoke` (optimized: the
 * result is `{ ExecutedVersion, Payload, SdkHttpMetadata, SdkResponseMetadata, StatusCode }`, a
 * function error fails the Task with its errorType and the function's error JSON as cause),
 * plain function ARNs (the result is the payload), `sqs:sendMessage`, `sns:publish`,
 * `events:putEvents`, each also as `.waitForTaskToken`. Calls go to the configured endpoints
 * through the AWS SDK, signed with the state machine's role credentials, without SDK retries (the
 * state's Retry decides, as in AWS).
 */
export function createIntegrations(options: { region: string; endpoints: ServiceEndpoints }): {
  of: (resource: string, credentials: Credentials) => Integration;
  /** Closes the SDK clients' connections. */
  destroy: () => void;
} {
  const clients = new Map<string, { destroy(): void }>();
  const client = <T extends { destroy(): void }>(
    kind: string,
    credentials: Credentials,
    make: (config: ClientConfig) => T,
    endpoint: string | undefined,
  ): T => {
    if (!endpoint) throw taskError('States.Runtime', `local Step Functions has no ${kind} endpoint configured (endpoints.${kind})`, { retryable: false });
    const key = `${kind}\n${credentials.accessKeyId}\n${credentials.secretAccessKey}`;
    let c = clients.get(key) as T | undefined;
    if (!c) clients.set(key, (c = make({ endpoint, region: options.region, credentials, maxAttempts: 1 })));
    return c;
  };
  const of = (resource: string, credentials: Credentials): Integration => {
    const lambda = (): LambdaClient => client('lambda', credentials, (c) => new LambdaClient(c), options.endpoints.lambda);
    if (FUNCTION.test(resource)) {
      return {
        resourceType: 'function',
        resource,
        callback: false,
        call: async (params) => (await invoke(lambda(), { FunctionName: resource, Payload: params })).Payload,
      };
    }
    const m = SERVICE.exec(resource);
    const [service, action, wait] = m ? [m[1]!, m[2]!, Boolean(m[3])] : ['', '', false];
    const base = { resourceType: service, resource: `${action}${wait ? '.waitForTaskToken' : ''}`, callback: wait };
    if (service === 'lambda' && action === 'invoke') return { ...base, call: (params) => invoke(lambda(), params as InvokeParams) };
    if (service === 'sqs' && action === 'sendMessage') {
      return {
        ...base,
        call: async (params) => {
          const p = params as SendMessageCommandInput & { MessageBody: unknown };
          const sqs = client('sqs', credentials, (c) => new SQSClient(c), options.endpoints.sqs);
          const out = await sqs.send(new SendMessageCommand({ ...p, MessageBody: text(p.MessageBody) })).catch(serviceError('SQS', 'AmazonSQS'));
          const { $metadata, ...fields } = out;
          return { ...fields, ...metadata($metadata) };
        },
      };
    }
    if (service === 'sns' && action === 'publish') {
      return {
        ...base,
        call: async (params) => {
          const p = params as PublishCommandInput & { Message: unknown };
          const sns = client('sns', credentials, (c) => new SNSClient(c), options.endpoints.sns);
          const out = await sns.send(new PublishCommand({ ...p, Message: text(p.Message) })).catch(serviceError('SNS', 'AmazonSNS'));
          const { $metadata, ...fields } = out;
          return { ...fields, ...metadata($metadata) };
        },
      };
    }
    if (service === 'events' && action === 'putEvents') {
      return {
        ...base,
        call: async (params) => {
          const p = params as { Entries?: (NonNullable<PutEventsCommandInput['Entries']>[number] & { Detail?: unknown })[] };
          const events = client('events', credentials, (c) => new EventBridgeClient(c), options.endpoints.events);
          const entries = (p.Entries ?? []).map((e) => ({ ...e, ...(e.Detail === undefined ? {} : { Detail: text(e.Detail) }) }));
          const out = await events.send(new PutEventsCommand({ Entries: entries })).catch(serviceError('EventBridge', 'AmazonEventBridge'));
          const { $metadata: _, ...fields } = out;
          if ((out.FailedEntryCount ?? 0) > 0) throw taskError('EventBridge.FailedEntry', JSON.stringify(fields));
          return fields;
        },
      };
    }
    return {
      ...base,
      resourceType: service || 'unknown',
      resource,
      call: () => Promise.reject(taskError('States.Runtime', `local Step Functions does not support the Task resource ${resource}`, { retryable: false })),
    };
  };
  return { of, destroy: () => clients.forEach((c) => c.destroy()) };
}

interface ClientConfig {
  endpoint: string;
  region: string;
  credentials: Credentials;
  maxAttempts: number;
}

interface InvokeParams {
  FunctionName: string;
  Payload?: unknown;
  Qualifier?: string;
  InvocationType?: InvocationType;
  LogType?: LogType;
  ClientContext?: string;
}

/** `lambda:invoke`: the optimized integration's result, or the function's error as the Task's. */
async function invoke(lambda: LambdaClient, params: InvokeParams): Promise<{ Payload: unknown } & Record<string, unknown>> {
  const out = await lambda
    .send(
      new InvokeCommand({
        FunctionName: params.FunctionName,
        ...(params.Payload === undefined ? {} : { Payload: new TextEncoder().encode(JSON.stringify(params.Payload)) }),
        ...(params.Qualifier === undefined ? {} : { Qualifier: params.Qualifier }),
        ...(params.InvocationType === undefined ? {} : { InvocationType: params.InvocationType }),
        ...(params.LogType === undefined ? {} : { LogType: params.LogType }),
        ...(params.ClientContext === undefined ? {} : { ClientContext: params.ClientContext }),
      }),
    )
    .catch(serviceError('Lambda', 'AWSLambda'));
  const body = out.Payload ? new TextDecoder().decode(out.Payload) : '';
  const payload = parse(body);
  if (out.FunctionError) {
    const errorType =
      payload && typeof payload === 'object' && typeof (payload as { errorType?: unknown }).errorType === 'string'
        ? (payload as { errorType: string }).errorType
        : 'Lambda.Unknown';
    throw taskError(errorType, body);
  }
  const extra: Record<string, string> = out.ExecutedVersion === undefined ? {} : { 'X-Amz-Executed-Version': out.ExecutedVersion };
  return { ExecutedVersion: out.ExecutedVersion ?? '$LATEST', Payload: payload, ...metadata(out.$metadata, extra), StatusCode: out.StatusCode ?? 200 };
}

/** The SdkHttpMetadata / SdkResponseMetadata Step Functions adds to an integration's result. */
function metadata(meta: { httpStatusCode?: number; requestId?: string }, extra: Record<string, string> = {}): Record<string, unknown> {
  const headers = { 'Content-Type': 'application/json', ...(meta.requestId ? { 'x-amzn-RequestId': meta.requestId } : {}), ...extra };
  return {
    SdkHttpMetadata: {
      AllHttpHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
      HttpHeaders: headers,
      HttpStatusCode: meta.httpStatusCode ?? 200,
    },
    SdkResponseMetadata: { RequestId: meta.requestId ?? '' },
  };
}

const LAMBDA_MODELLED = new Set([
  'ServiceException',
  'TooManyRequestsException',
  'ResourceNotFoundException',
  'InvalidRequestContentException',
  'RequestTooLargeException',
  'ResourceConflictException',
  'ResourceNotReadyException',
  'InvalidParameterValueException',
  'UnsupportedMediaTypeException',
]);
const QUEUE_MISSING = new Set(['QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue']);

/**
 * A failed service call as Step Functions reports it: `<Service>.<Exception>` for errors its SDK
 * models (Lambda.TooManyRequestsException, SQS.QueueDoesNotExistException...), the service's
 * generic exception for the rest (an IAM denial is `Lambda.AWSLambdaException`), the cause in the
 * Java SDK's words; `<Service>.SdkClientException` when nothing answered.
 */
function serviceError(prefix: string, service: string): (e: unknown) => never {
  return (e) => {
    const err = e as Error & { $metadata?: { httpStatusCode?: number; requestId?: string } };
    const status = err.$metadata?.httpStatusCode;
    if (status === undefined) throw taskError(`${prefix}.SdkClientException`, `Unable to execute HTTP request: ${err.message}`);
    const name =
      prefix === 'Lambda' && LAMBDA_MODELLED.has(err.name)
        ? `Lambda.${err.name}`
        : prefix === 'SQS' && QUEUE_MISSING.has(err.name)
          ? 'SQS.QueueDoesNotExistException'
          : `${prefix}.${service === 'AWSLambda' ? 'AWSLambdaException' : `${service}Exception`}`;
    throw taskError(
      name,
      `${err.message} (Service: ${service}; Status Code: ${status}; Error Code: ${err.name}; Request ID: ${err.$metadata?.requestId ?? ''}; Proxy: null)`,
    );
  };
}

/** A message body as the integrations send it: strings as they are, anything else as JSON. */
function text(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function parse(body: string): unknown {
  if (body === '') return null;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
}
