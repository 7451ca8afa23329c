/** What an AWS API request asks, in IAM's terms. */
export interface CallDescription {
  /** `service:Operation` as IAM names it (`s3:GetObject`, `bedrock:InvokeModel`). */
  action: string;
  /** The resources it is authorised on; `*` where the action has none (or the rehearsal cannot tell). */
  resources: string[];
}

/** The parts of a request {@link describeCall} reads. */
export interface CallRequest {
  /** The SigV4 signing name (`s3`, `sqs`, `sns`, `secretsmanager`, `bedrock`, `states`, `events`, `xray`, `lambda`…). */
  service: string;
  region: string;
  account: string;
  method: string;
  /** Path and query. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** Full ARN of a Secrets Manager secret from its name or partial ARN, when the rehearsal created it. */
  secretArn?: (id: string) => string | undefined;
}

/**
 * Names the IAM action and resource of an AWS API request from its wire form: the JSON protocols'
 * `X-Amz-Target`, the query protocol's `Action`, the REST paths of S3, Bedrock Runtime, X-Ray and
 * Lambda. Resources come from the request's own identifiers (bucket and key, QueueUrl, TopicArn,
 * SecretId, model id, execution ARN, event bus), as IAM authorises them.
 */
export function describeCall(req: CallRequest): CallDescription {
  const path = new URL(req.url, 'http://local').pathname;
  const query = new URL(req.url, 'http://local').searchParams;
  const target = header(req.headers, 'x-amz-target');
  const json = (): Record<string, unknown> => parseJson(req.body);
  const form = (): URLSearchParams => new URLSearchParams(req.body.toString('utf8'));
  const op = target ? target.slice(target.lastIndexOf('.') + 1) : (form().get('Action') ?? query.get('Action') ?? '');
  const arn = (service: string, resource: string, region = req.region): string => `arn:aws:${service}:${region}:${req.account}:${resource}`;
  switch (req.service) {
    case 's3':
      return s3Call(req.method, path, query);
    case 'sqs': {
      const queueUrl = String((target ? json().QueueUrl : form().get('QueueUrl')) ?? '');
      const parts = queueUrl.split('/').filter(Boolean);
      const name = parts.at(-1);
      const account = parts.at(-2) ?? req.account;
      return { action: `sqs:${op}`, resources: [name ? `arn:aws:sqs:${req.region}:${/^\d{12}$/.test(account) ? account : req.account}:${name}` : '*'] };
    }
    case 'sns': {
      const f = form();
      const topic = f.get('TopicArn') ?? f.get('TargetArn') ?? (op === 'CreateTopic' && f.get('Name') ? arn('sns', f.get('Name')!) : undefined);
      return { action: `sns:${op}`, resources: [topic ?? '*'] };
    }
    case 'secretsmanager': {
      const id = json().SecretId;
      if (typeof id !== 'string') return { action: `secretsmanager:${op}`, resources: ['*'] };
      const full = req.secretArn?.(id) ?? (id.startsWith('arn:') ? id : arn('secretsmanager', `secret:${id}`));
      return { action: `secretsmanager:${op}`, resources: [full] };
    }
    case 'events': {
      const body = json();
      if (op === 'PutEvents') {
        const entries = (body.Entries as { EventBusName?: string }[] | undefined) ?? [];
        const buses = new Set(entries.map((e) => e.EventBusName ?? 'default'));
        return { action: 'events:PutEvents', resources: [...buses].map((b) => (b.startsWith('arn:') ? b : arn('events', `event-bus/${b}`))) };
      }
      return { action: `events:${op}`, resources: typeof body.Name === 'string' ? [arn('events', `rule/${body.Name}`)] : ['*'] };
    }
    case 'states': {
      const body = json();
      const resource = body.executionArn ?? body.stateMachineArn ?? body.mapRunArn ?? body.activityArn;
      return { action: `states:${op}`, resources: [typeof resource === 'string' ? resource : '*'] };
    }
    case 'bedrock': {
      const m = /^\/model\/([^/]+)\/(converse-stream|converse|invoke-with-response-stream|invoke)$/.exec(path);
      if (!m) return { action: `bedrock:${path.split('/')[1] ?? ''}`, resources: ['*'] };
      const stream = m[2]!.includes('stream');
      return {
        action: stream ? 'bedrock:InvokeModelWithResponseStream' : 'bedrock:InvokeModel',
        resources: [bedrockModelArn(decodeURIComponent(m[1]!), req.region, req.account)],
      };
    }
    case 'xray':
      return { action: `xray:${XRAY_PATHS[path] ?? path.slice(1)}`, resources: ['*'] };
    case 'lambda': {
      const m = /^\/[^/]+\/functions\/([^/]+)\/invocations$/.exec(path);
      if (!m) return { action: 'lambda:*', resources: ['*'] };
      const fn = decodeURIComponent(m[1]!);
      return { action: 'lambda:InvokeFunction', resources: [fn.startsWith('arn:') ? fn : arn('lambda', `function:${fn}`)] };
    }
    default:
      return { action: `${req.service}:${op}`, resources: ['*'] };
  }
}

const XRAY_PATHS: Record<string, string> = {
  '/TraceSegments': 'PutTraceSegments',
  '/TelemetryRecords': 'PutTelemetryRecords',
  '/GetSamplingRules': 'GetSamplingRules',
  '/SamplingTargets': 'GetSamplingTargets',
};

/**
 * The ARN Bedrock authorises a model id on: a foundation model (`…::foundation-model/<id>`), an
 * inference profile (`<geo>.<id>`: `…:<account>:inference-profile/<id>`), or the ARN itself.
 */
export function bedrockModelArn(modelId: string, region: string, account: string): string {
  if (modelId.startsWith('arn:')) return modelId;
  if (/^(us|eu|apac|us-gov|global|ca|jp|au)\./.test(modelId)) return `arn:aws:bedrock:${region}:${account}:inference-profile/${modelId}`;
  return `arn:aws:bedrock:${region}::foundation-model/${modelId}`;
}

function s3Call(method: string, path: string, query: URLSearchParams): CallDescription {
  const [bucket, ...rest] = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (!bucket) return { action: 's3:ListAllMyBuckets', resources: ['*'] };
  const key = rest.join('/');
  const bucketArn = `arn:aws:s3:::${bucket}`;
  if (!key) {
    if (method === 'POST' && query.has('delete')) return { action: 's3:DeleteObject', resources: [`${bucketArn}/*`] };
    const byMethod: Record<string, string> = { GET: 's3:ListBucket', HEAD: 's3:ListBucket', PUT: 's3:CreateBucket', DELETE: 's3:DeleteBucket' };
    return { action: byMethod[method] ?? `s3:${method}`, resources: [bucketArn] };
  }
  const byMethod: Record<string, string> = { GET: 's3:GetObject', HEAD: 's3:GetObject', PUT: 's3:PutObject', POST: 's3:PutObject', DELETE: 's3:DeleteObject' };
  return { action: byMethod[method] ?? `s3:${method}`, resources: [`${bucketArn}/${key}`] };
}

function header(headers: CallRequest['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function parseJson(body: Buffer): Record<string, unknown> {
  try {
    const v = JSON.parse(body.toString('utf8')) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
