import { CreateBucketCommand, type BucketLocationConstraint } from '@aws-sdk/client-s3';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, type QueueAttributeName } from '@aws-sdk/client-sqs';
import { randomBytes } from 'node:crypto';
import { physicalName, str, type CreateContext, type Creator } from './context.js';

/** Queue attributes CloudFormation and moto both know. */
const QUEUE_ATTRIBUTES = [
  'DelaySeconds',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'VisibilityTimeout',
  'FifoQueue',
  'ContentBasedDeduplication',
] as const;

const bucket: Creator = async (ctx, id, props) => {
  const name = str(props.BucketName) ?? physicalName(ctx.stack.name, id, 63, true);
  await ctx.clients.s3.send(
    new CreateBucketCommand({
      Bucket: name,
      ...(ctx.region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: ctx.region as BucketLocationConstraint } }),
    }),
  );
  return {
    status: 'created',
    ref: name,
    attributes: {
      Arn: `arn:aws:s3:::${name}`,
      DomainName: `${name}.s3.amazonaws.com`,
      RegionalDomainName: `${name}.s3.${ctx.region}.amazonaws.com`,
      WebsiteURL: `http://${name}.s3-website-${ctx.region}.amazonaws.com`,
    },
  };
};

const queue: Creator = async (ctx, id, props) => {
  const fifo = props.FifoQueue === true || props.FifoQueue === 'true';
  const name = str(props.QueueName) ?? physicalName(ctx.stack.name, id, fifo ? 75 : 80) + (fifo ? '.fifo' : '');
  const attributes: Partial<Record<QueueAttributeName, string>> = {};
  for (const a of QUEUE_ATTRIBUTES) if (props[a] !== undefined) attributes[a] = String(props[a]);
  if (props.RedrivePolicy) attributes.RedrivePolicy = JSON.stringify(props.RedrivePolicy);
  const { QueueUrl } = await ctx.clients.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const { Attributes } = await ctx.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  const arn = Attributes?.QueueArn ?? `arn:aws:sqs:${ctx.region}:${ctx.account}:${name}`;
  return { status: 'created', ref: QueueUrl!, attributes: { Arn: arn, QueueName: name, QueueUrl: QueueUrl! } };
};

const topic: Creator = async (ctx, id, props) => {
  const name = str(props.TopicName) ?? physicalName(ctx.stack.name, id, 256);
  const attributes: Record<string, string> = {};
  if (props.DisplayName) attributes.DisplayName = String(props.DisplayName);
  if (props.FifoTopic) attributes.FifoTopic = String(props.FifoTopic);
  const { TopicArn } = await ctx.clients.sns.send(new CreateTopicCommand({ Name: name, Attributes: attributes }));
  for (const s of (props.Subscription as { Endpoint: string; Protocol: string }[] | undefined) ?? []) {
    await ctx.clients.sns.send(new SubscribeCommand({ TopicArn, Protocol: s.Protocol, Endpoint: s.Endpoint }));
  }
  return { status: 'created', ref: TopicArn!, attributes: { TopicArn: TopicArn!, TopicName: name } };
};

const subscription: Creator = async (ctx, _id, props) => {
  const attributes: Record<string, string> = {};
  for (const a of ['RawMessageDelivery', 'FilterPolicyScope', 'RedrivePolicy', 'FilterPolicy'] as const) {
    const v = props[a];
    if (v !== undefined) attributes[a] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  const out = await ctx.clients.sns.send(
    new SubscribeCommand({
      TopicArn: str(props.TopicArn),
      Protocol: str(props.Protocol),
      Endpoint: str(props.Endpoint),
      Attributes: attributes,
      ReturnSubscriptionArn: true,
    }),
  );
  return { status: 'created', ref: out.SubscriptionArn!, attributes: { Arn: out.SubscriptionArn! } };
};

const secret: Creator = async (ctx, id, props) => {
  const name = str(props.Name) ?? physicalName(ctx.stack.name, id, 40);
  const value = str(props.SecretString) ?? ctx.secretValue(name) ?? generated(props.GenerateSecretString as GenerateSecretString | undefined);
  const arn = await createSecret(ctx, name, value);
  return { status: 'created', ref: arn, attributes: { Id: arn } };
};

/** Keeps a resource policy for the rehearsal's own checks of service principals; not applied to moto (see the README). */
function keepPolicy(resourcesOf: (props: Record<string, unknown>) => unknown): Creator {
  return (ctx, id, props) => {
    const resources = [resourcesOf(props)].flat().map(String);
    const doc = props.PolicyDocument as { Statement?: unknown } | undefined;
    ctx.resourcePolicies.push({ logicalId: id, resources, statements: [doc?.Statement ?? []].flat() as Record<string, unknown>[] });
    return Promise.resolve({
      status: 'named',
      ref: id,
      attributes: {},
      note: 'kept for service-principal checks, not put on moto (moto would apply its aws:SecureTransport Deny to the plain-HTTP rehearsal)',
    });
  };
}

const queueArnOf = (ctx: CreateContext, url: string): string => `arn:aws:sqs:${ctx.region}:${ctx.account}:${url.split('/').pop()}`;

/**
 * Creates a secret, with the suffix its template ARN names when it is imported by complete ARN
 * (moto takes a `_custom_id_` tag for it), so that the ARN the functions read and their IAM
 * statements name is the secret's own.
 */
export async function createSecret(ctx: CreateContext, name: string, value: string, suffix?: string): Promise<string> {
  const out = await ctx.clients.secrets.send(
    new CreateSecretCommand({ Name: name, SecretString: value, ...(suffix ? { Tags: [{ Key: '_custom_id_', Value: suffix }] } : {}) }),
  );
  ctx.secrets.set(name, out.ARN!);
  return out.ARN!;
}

interface GenerateSecretString {
  SecretStringTemplate?: string;
  GenerateStringKey?: string;
  PasswordLength?: number;
}

function generated(spec: GenerateSecretString | undefined): string {
  const password = randomBytes(24)
    .toString('base64url')
    .slice(0, spec?.PasswordLength ?? 32);
  if (!spec?.SecretStringTemplate || !spec.GenerateStringKey) return password;
  return JSON.stringify({ ...(JSON.parse(spec.SecretStringTemplate) as object), [spec.GenerateStringKey]: password });
}

/** Types the rehearsal names (so that Ref and GetAtt resolve) without creating them anywhere. */
function namedOnly(service: string, kind: string, max: number, note: string, arnOf?: (name: string, ctx: CreateContext) => string): Creator {
  return (ctx, id, props) => {
    const name = str(props[`${kind}Name`]) ?? physicalName(ctx.stack.name, id, max);
    const arn = arnOf?.(name, ctx) ?? `arn:aws:${service}:${ctx.region}:${ctx.account}:${kind.toLowerCase()}:${name}`;
    return Promise.resolve({ status: 'named', ref: name, attributes: { Arn: arn }, note });
  };
}

/** Creators of the storage, messaging and secret types, and of the types only named. */
export const STORAGE_CREATORS: Record<string, Creator> = {
  'AWS::S3::Bucket': bucket,
  'AWS::S3::BucketPolicy': keepPolicy((p) => `arn:aws:s3:::${String(p.Bucket)}`),
  'AWS::SQS::Queue': queue,
  'AWS::SQS::QueuePolicy': (ctx, id, props) => keepPolicy((p) => (p.Queues as string[]).map((u) => queueArnOf(ctx, u)))(ctx, id, props),
  'AWS::SNS::Topic': topic,
  'AWS::SNS::TopicPolicy': keepPolicy((p) => p.Topics),
  'AWS::SNS::Subscription': subscription,
  'AWS::SecretsManager::Secret': secret,
  'AWS::Logs::LogGroup': namedOnly(
    'logs',
    'LogGroup',
    512,
    'not created: function output stays in the local Lambda endpoint (logs(name))',
    (name, ctx) => `arn:aws:logs:${ctx.region}:${ctx.account}:log-group:${name}:*`,
  ),
  'AWS::CloudWatch::Alarm': namedOnly(
    'cloudwatch',
    'Alarm',
    255,
    'not created: the rehearsal has no CloudWatch metrics',
    (name, ctx) => `arn:aws:cloudwatch:${ctx.region}:${ctx.account}:alarm:${name}`,
  ),
};

/** A resource of a type the rehearsal does not create: named so that references resolve, reported as skipped. */
export const skipped = (type: string): Creator => namedOnly(type.split('::')[1]?.toLowerCase() ?? 'unknown', 'Resource', 64, `${type} is not rehearsed`);
