import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { ModelClient } from '@baton/core';
import { startLocalBedrock, type LocalBedrock } from '@baton/stages/local-bedrock';
import { randomBytes } from 'node:crypto';
import { startLocalLambda, type LocalLambda } from '../lambda/server.js';
import { startLocalStepFunctions, type LocalStepFunctions } from '../sfn/server.js';
import { readCloudAssembly, type CfnTemplate } from './cloud-assembly.js';
import type { CreateContext } from './context.js';
import { createEventRouter, type EventDelivery } from './events.js';
import { startGateway } from './gateway.js';
import { creationOrder, evaluateConditions, resolve, type ResolveContext } from './intrinsics.js';
import { startEnforcingMoto } from './moto.js';
import { PrincipalRegistry, describePrincipal, type IamDenial } from './principals.js';
import { createAll, createImportedSecrets } from './walk.js';
import { functionEnvironment, createStateMachines, invokeAsService } from './wiring.js';
import type { Credentials } from './sign.js';
import { startSegmentSender, type SegmentSender } from './xray.js';

/** Options of {@link rehearse}. */
export interface RehearseOptions {
  /** PostgreSQL URL the registry's database secret holds (every secret named by a function's `BATON_DATABASE_SECRET_ARN`). */
  databaseUrl?: string;
  /** Values of other secrets the template imports or creates without a value, by ARN or name. */
  secrets?: Record<string, string>;
  /** The stack of the cloud assembly. @default its only stack */
  stack?: string;
  /** Changes the template before anything is created (tests: remove a statement). */
  transformTemplate?: (template: CfnTemplate) => void;
  /** @default the stack's region, else 'us-east-1' */
  region?: string;
  /** The local Bedrock server: its answering model and enabled models, or a running one (not closed by the rehearsal). @default startLocalBedrock() */
  bedrock?: LocalBedrock | { model?: ModelClient | ((modelId: string) => ModelClient); models?: readonly string[] };
  /** Scales retry intervals and waits of executions (1 = real time). @default 1 */
  timeScale?: number;
  /**
   * Seconds a function's sandbox may take to load its bundle before the invocation fails with
   * `Sandbox.Timedout` (Lambda's own limit is 10). Tests on a loaded machine give more. @default 10
   */
  initTimeoutSeconds?: number;
  /** The Step Functions endpoint's clock for RedriveExecution's 14-day window (tests move it forward). @default Date.now */
  now?: () => number;
  /** Fixed ports for a long-running rehearsal (`baton rehearse`); free ports otherwise. */
  ports?: { gateway?: number; stepFunctions?: number; lambda?: number };
  /** `moto_server` binary. @default MOTO_SERVER, `<repo>/.venv-moto/bin/moto_server`, PATH */
  motoBinary?: string;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** What a rehearsal created from one template resource. */
export interface RehearsedResource {
  logicalId: string;
  type: string;
  physicalId: string;
  status: 'created' | 'named' | 'skipped';
  note?: string;
}

/** A message read from a queue by {@link Rehearsal.nextMessage}. */
export interface QueueMessage {
  /** The raw body. */
  body: string;
  /** The SNS message (the body itself when it is not an SNS envelope). */
  message: string;
  subject?: string;
  /** SNS message attributes (string values). */
  attributes: Record<string, string>;
}

/** A running rehearsal of a synthesized stack. */
export interface Rehearsal {
  stackName: string;
  region: string;
  account: string;
  /** `aws`: the one endpoint of every AWS service (`AWS_ENDPOINT_URL`); the others are what it routes to. */
  endpoints: { aws: string; stepFunctions: string; lambda: string; bedrock: string; moto: string };
  /** The rehearsal admin's keys (allowed everything): for tests, the CLI and the dashboard. */
  admin: Credentials;
  /** Environment for an AWS SDK or `baton … --engine stepfunctions` process driving the rehearsal. */
  env: Record<string, string>;
  /** The first state machine's ARN; all of them by logical id. */
  stateMachineArn: string | undefined;
  stateMachines: Record<string, string>;
  functions: Record<string, { name: string; arn: string }>;
  queues: Record<string, string>;
  topics: Record<string, string>;
  buckets: Record<string, string>;
  /** Secret name → ARN. */
  secrets: Record<string, string>;
  /** The stack's outputs, resolved. */
  outputs: Record<string, string>;
  resources: RehearsedResource[];
  /** Every IAM denial so far (0 on a deployment whose policies are right). */
  denials: IamDenial[];
  /** Deliveries of events through the template's rules. */
  deliveries: EventDelivery[];
  bedrock: LocalBedrock;
  lambda: LocalLambda;
  stepFunctions: LocalStepFunctions;
  segments: SegmentSender;
  /** Calls `listener` on every later denial. */
  onDenial(listener: (d: IamDenial) => void): void;
  /** Creates a queue subscribed to an SNS topic (a reviewer's mailbox); returns its URL. */
  subscribeQueue(topicArn: string, name?: string): Promise<string>;
  /**
   * Waits up to `timeoutMs` for the next message of a queue (as the admin), deletes it and returns
   * it; `undefined` when none came. An SNS delivery is unwrapped: `message`, `subject` and the
   * message attributes of its envelope.
   */
  nextMessage(queueUrl: string, timeoutMs?: number): Promise<QueueMessage | undefined>;
  /** Waits until every event handed to the rules is delivered and every trace segment is sent. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Rehearses a synthesized CDK app offline: reads the stack's template and asset manifest from
 * `cdkOutDir`, resolves its intrinsics, and creates its resources in dependency order on local
 * stand-ins: S3, SQS (+ policies), SNS (+ subscriptions), Secrets Manager (an imported secret is
 * created under its own ARN with the value given: the registry's secret points at `databaseUrl`),
 * EventBridge rules and IAM on a moto server that enforces IAM (each role an IAM user with the
 * role's policies and an access key); Lambda functions on the local Lambda endpoint, each from its
 * bundled asset with the template's environment, its role's keys and every AWS endpoint pointed
 * at the rehearsal's gateway (which enforces IAM where moto does not: Bedrock, SNS, Secrets
 * Manager, X-Ray…); state machines on the local Step Functions endpoint signing their service
 * integrations with their role's keys; execution status-change events routed through the rules.
 * Every denial is recorded with principal, action and resource.
 *
 * @example
 * ```ts
 * const r = await rehearse('cdk.out', { databaseUrl: 'postgres://baton@127.0.0.1:5432/baton' });
 * console.log(r.stateMachineArn, r.endpoints.aws, r.denials.length);
 * await r.close();
 * ```
 */
export async function rehearse(cdkOutDir: string, options: RehearseOptions = {}): Promise<Rehearsal> {
  const log = options.log ?? (() => undefined);
  const stack = readCloudAssembly(cdkOutDir, options.stack);
  options.transformTemplate?.(stack.template);
  const region = options.region ?? stack.region ?? 'us-east-1';
  const account = stack.account ?? '123456789012';
  const closers: (() => Promise<unknown>)[] = [];
  const closeAll = async (): Promise<void> => {
    // last started, first stopped; a second close finds nothing left
    for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  };
  try {
    const moto = await startEnforcingMoto({ account, region, ...(options.motoBinary ? { binary: options.motoBinary } : {}) });
    closers.push(() => moto.close());
    log(`moto ${moto.endpoint}: IAM enforced after the admin's set-up (${moto.adminArn})`);
    const ownBedrock = !options.bedrock || !('url' in options.bedrock);
    const bedrock = ownBedrock
      ? await startLocalBedrock(options.bedrock && !('url' in options.bedrock) ? options.bedrock : {})
      : (options.bedrock as LocalBedrock);
    if (ownBedrock) closers.push(() => bedrock.close());
    const registry = new PrincipalRegistry();
    registry.add({ kind: 'admin', name: 'rehearsal admin', credentials: moto.admin });
    const events = {
      kind: 'service' as const,
      name: 'events.amazonaws.com',
      credentials: { accessKeyId: `AKIAEVENTS${randomBytes(5).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(20).toString('hex') },
    };
    registry.add(events);
    const upstreams: { moto: string; bedrock: string; states?: string; lambda?: string } = { moto: moto.endpoint, bedrock: bedrock.url };
    const secrets = new Map<string, string>();
    const gateway = await startGateway({
      region,
      account,
      registry,
      admin: moto.admin,
      upstreams,
      secretArn: (id) => secretArnOf(secrets, id),
      ...(options.ports?.gateway ? { port: options.ports.gateway } : {}),
    });
    closers.push(() => gateway.close());
    const sdk = { region, endpoint: gateway.url, credentials: moto.admin };
    const clients = {
      s3: new S3Client({ ...sdk, forcePathStyle: true }),
      sqs: new SQSClient(sdk),
      sns: new SNSClient(sdk),
      secrets: new SecretsManagerClient(sdk),
      events: new EventBridgeClient(sdk),
    };

    const resolveContext: ResolveContext = {
      region,
      account,
      stackName: stack.name,
      physical: new Map(),
      parameters: parameterDefaults(stack.template),
      conditions: {},
    };
    resolveContext.conditions = evaluateConditions(stack.template, resolveContext);
    const ctx: CreateContext = {
      stack,
      region,
      account,
      resolve: resolveContext,
      moto,
      registry,
      clients,
      secretValue: (id) => options.secrets?.[id],
      functions: [],
      stateMachines: [],
      rules: [],
      resourcePolicies: [],
      secrets,
    };
    const imported = await createImportedSecrets(ctx, options.databaseUrl, options.secrets ?? {});
    for (const s of imported) log(`secret ${s} (imported by the template) created with the value given`);
    const resources = await createAll(ctx, creationOrder(stack.template), log);

    const lambda = await startLocalLambda({
      region,
      account,
      ...(options.ports?.lambda ? { port: options.ports.lambda } : {}),
      ...(options.initTimeoutSeconds ? { initTimeoutSeconds: options.initTimeoutSeconds } : {}),
      functions: ctx.functions.map((f) => ({
        name: f.name,
        entry: f.entry,
        handler: f.handler,
        environment: functionEnvironment(f, { region, gateway: gateway.url }),
        timeoutSeconds: f.timeoutSeconds,
        memoryMb: f.memoryMb,
      })),
      authorize: (keyId, action, resource) => {
        const p = registry.principalOf(keyId);
        if (p && p.kind !== 'role') return undefined;
        if (p && registry.allows(p, action, resource)) return undefined;
        registry.deny(p ?? `key ${keyId || '(unsigned)'}`, action, resource, 'lambda');
        return `User: ${p ? describePrincipal(p) : keyId} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`;
      },
    });
    closers.push(() => lambda.close());
    upstreams.lambda = lambda.url;

    const queueUrlOf = (arn: string): string => {
      const name = arn.split(':').pop()!;
      return [...resolveContext.physical.values()].find((p) => p.attributes.Arn === arn)?.ref ?? `${gateway.url}/${account}/${name}`;
    };
    const router = createEventRouter({
      rules: ctx.rules,
      resourcePolicies: ctx.resourcePolicies,
      account,
      delivery: {
        invoke: (arn, payload) => invokeAsService(lambda.url, region, events.credentials, arn, payload),
        sendMessage: async (arn, body) => void (await clients.sqs.send(new SendMessageCommand({ QueueUrl: queueUrlOf(arn), MessageBody: body }))),
        publish: async (arn, message) => void (await clients.sns.send(new PublishCommand({ TopicArn: arn, Message: message }))),
      },
      onDenied: (rule, action, resource) => void registry.deny(`events.amazonaws.com (rule ${rule.logicalId})`, action, resource, 'resource-policy'),
    });
    const stepFunctions = await startLocalStepFunctions({
      region,
      account,
      ...(options.ports?.stepFunctions ? { port: options.ports.stepFunctions } : {}),
      roleCredentials: (arn) => ctx.stateMachines.find((s) => s.arn === arn)?.role.credentials,
      endpoints: { lambda: lambda.url, sqs: gateway.url, sns: gateway.url, events: gateway.url },
      onStatusChange: (event) => router.deliver(event as unknown as Record<string, unknown>),
      timeScale: options.timeScale ?? 1,
      ...(options.now ? { now: options.now } : {}),
    });
    closers.push(() => stepFunctions.close());
    upstreams.states = stepFunctions.url;
    await createStateMachines(ctx.stateMachines, { endpoint: gateway.url, region, admin: moto.admin });
    const segments = startSegmentSender({ functions: ctx.functions, invocations: lambda.invocations, endpoint: gateway.url, region });
    closers.push(() => segments.close());
    closers.push(() => router.idle());

    const byType = (type: string, pick: (p: { ref: string; attributes: Record<string, string> }) => string): Record<string, string> =>
      Object.fromEntries(
        resources.filter((r) => r.type === type && r.status === 'created').map((r) => [r.logicalId, pick(resolveContext.physical.get(r.logicalId)!)]),
      );
    const outputs = Object.fromEntries(Object.entries(stack.template.Outputs ?? {}).map(([k, o]) => [k, String(resolve(o.Value, resolveContext))]));
    const env = awsEnvironment(gateway.url, region, moto.admin);
    log(`rehearsal of ${stack.name} ready: ${resources.filter((r) => r.status === 'created').length} resources created, AWS endpoint ${gateway.url}`);
    return {
      stackName: stack.name,
      region,
      account,
      endpoints: { aws: gateway.url, stepFunctions: stepFunctions.url, lambda: lambda.url, bedrock: bedrock.url, moto: moto.endpoint },
      admin: moto.admin,
      env,
      stateMachineArn: ctx.stateMachines[0]?.arn,
      stateMachines: Object.fromEntries(ctx.stateMachines.map((s) => [s.logicalId, s.arn])),
      functions: Object.fromEntries(ctx.functions.map((f) => [f.logicalId, { name: f.name, arn: f.arn }])),
      queues: byType('AWS::SQS::Queue', (p) => p.ref),
      topics: byType('AWS::SNS::Topic', (p) => p.ref),
      buckets: byType('AWS::S3::Bucket', (p) => p.ref),
      secrets: Object.fromEntries(secrets),
      outputs,
      resources,
      denials: registry.denials,
      deliveries: router.deliveries,
      bedrock,
      lambda,
      stepFunctions,
      segments,
      onDenial: (listener) => registry.onDenial(listener),
      async subscribeQueue(topicArn, name) {
        const { QueueUrl } = await clients.sqs.send(new CreateQueueCommand({ QueueName: name ?? `subscriber-${randomBytes(4).toString('hex')}` }));
        const { Attributes } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
        await clients.sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: Attributes!.QueueArn! }));
        return QueueUrl!;
      },
      async nextMessage(queueUrl, timeoutMs = 10_000) {
        const deadline = Date.now() + timeoutMs;
        do {
          const wait = Math.max(0, Math.min(1, Math.floor((deadline - Date.now()) / 1000)));
          const { Messages } = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: wait }));
          const m = Messages?.[0];
          if (m) {
            await clients.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
            return queueMessage(m.Body ?? '');
          }
        } while (Date.now() < deadline);
        return undefined;
      },
      async settle() {
        await router.idle();
        await segments.flush();
      },
      close: closeAll,
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}

/** AWS_ENDPOINT_URL (+ the per-service variables), region and keys for an SDK process on the rehearsal. */
export function awsEnvironment(endpoint: string, region: string, credentials: Credentials): Record<string, string> {
  const out: Record<string, string> = {
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_ENDPOINT_URL: endpoint,
  };
  for (const s of ['S3', 'SQS', 'SNS', 'SECRETS_MANAGER', 'EVENTBRIDGE', 'SFN', 'BEDROCK_RUNTIME', 'XRAY', 'STS', 'LAMBDA'])
    out[`AWS_ENDPOINT_URL_${s}`] = endpoint;
  return out;
}

function queueMessage(body: string): QueueMessage {
  try {
    const envelope = JSON.parse(body) as { Type?: string; Subject?: string; Message?: string; MessageAttributes?: Record<string, { Value: string }> };
    if (envelope.Type === 'Notification' && typeof envelope.Message === 'string') {
      const attributes = Object.fromEntries(Object.entries(envelope.MessageAttributes ?? {}).map(([k, v]) => [k, v.Value]));
      return { body, message: envelope.Message, ...(envelope.Subject ? { subject: envelope.Subject } : {}), attributes };
    }
  } catch {
    // not JSON: a raw message
  }
  return { body, message: body, attributes: {} };
}

function parameterDefaults(template: CfnTemplate): Record<string, unknown> {
  return Object.fromEntries(Object.entries(template.Parameters ?? {}).map(([k, p]) => [k, p.Default ?? '']));
}

/** The full ARN of a created secret from a name, a partial or a full ARN. */
function secretArnOf(secrets: Map<string, string>, id: string): string | undefined {
  for (const [name, arn] of secrets) if (id === arn || id === name || arn.startsWith(`${id}-`)) return arn;
  return undefined;
}
