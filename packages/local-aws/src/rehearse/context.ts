import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { randomBytes } from 'node:crypto';
import type { SynthesizedStack } from './cloud-assembly.js';
import type { PhysicalResource, ResolveContext } from './intrinsics.js';
import type { EnforcingMoto } from './moto.js';
import type { PrincipalRegistry, RolePrincipal } from './principals.js';

/** A Lambda function of the template, ready for the local Lambda endpoint. */
export interface FunctionSpec {
  logicalId: string;
  name: string;
  arn: string;
  /** The module file of its handler in its asset directory. */
  entry: string;
  handler: string;
  /** The template's environment, resolved (the rehearsal adds endpoints, region and keys). */
  environment: Record<string, string>;
  role: RolePrincipal;
  timeoutSeconds: number;
  memoryMb: number;
  tracing: boolean;
}

/** A state machine of the template, ready for CreateStateMachine. */
export interface StateMachineSpec {
  logicalId: string;
  name: string;
  /** The ARN its Ref resolved to (the local SFN endpoint must give the same). */
  arn: string;
  type: 'STANDARD' | 'EXPRESS';
  /** Definition with DefinitionSubstitutions applied. */
  definition: string;
  role: RolePrincipal;
  tracing: boolean;
  /** An `AWS::StepFunctions::StateMachineVersion` of it is in the template: created with `publish` (version 1). */
  published?: boolean;
  /** Its `AWS::StepFunctions::StateMachineAlias`es, each routing to version 1. */
  aliases?: string[];
}

/** A target of an EventBridge rule. */
export interface RuleTarget {
  Id: string;
  Arn: string;
  Input?: string;
  InputPath?: string;
  InputTransformer?: { InputPathsMap?: Record<string, string>; InputTemplate: string };
  RetryPolicy?: { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number };
  DeadLetterConfig?: { Arn?: string };
}

/** An EventBridge rule of the template. */
export interface RuleSpec {
  logicalId: string;
  name: string;
  arn: string;
  pattern: Record<string, unknown> | undefined;
  enabled: boolean;
  targets: RuleTarget[];
}

/** A resource-based policy the rehearsal evaluates for service principals (EventBridge delivering to a queue, a topic or a function). */
export interface ResourcePolicy {
  logicalId: string;
  /** ARNs the policy is attached to. */
  resources: string[];
  statements: Record<string, unknown>[];
}

/** Everything a resource creator needs, and what the walk collects. */
export interface CreateContext {
  stack: SynthesizedStack;
  region: string;
  account: string;
  resolve: ResolveContext;
  moto: EnforcingMoto;
  registry: PrincipalRegistry;
  /** Admin clients, through the gateway (queue URLs then name the gateway). */
  clients: { s3: S3Client; sqs: SQSClient; sns: SNSClient; secrets: SecretsManagerClient; events: EventBridgeClient };
  /** The value of a secret the template imports or creates without a value (by ARN or name). */
  secretValue(id: string): string | undefined;
  functions: FunctionSpec[];
  stateMachines: StateMachineSpec[];
  rules: RuleSpec[];
  resourcePolicies: ResourcePolicy[];
  /** Secret name → ARN of every secret created. */
  secrets: Map<string, string>;
}

/** What creating a resource gave: its Ref and attributes, and whether it exists anywhere or is only named. */
export interface Created extends PhysicalResource {
  /** `created` on moto or a local endpoint; `named` when the rehearsal only gives it a name (log groups, alarms…). */
  status: 'created' | 'named';
  note?: string;
}

/** Creates one resource type from its resolved properties. */
export type Creator = (ctx: CreateContext, logicalId: string, props: Record<string, unknown>) => Promise<Created>;

/**
 * A physical name as CloudFormation makes one: `<stack>-<logicalId>-<random>`, shortened to `max`
 * characters (lower case where the service wants it).
 */
export function physicalName(stack: string, logicalId: string, max: number, lower = false): string {
  const suffix = randomBytes(8).toString('hex').toUpperCase().slice(0, 12);
  const room = max - suffix.length - 2;
  const stackPart = stack.slice(0, Math.max(1, Math.floor(room / 3)));
  const idPart = logicalId.slice(0, room - stackPart.length);
  const name = `${stackPart}-${idPart}-${suffix}`;
  return lower ? name.toLowerCase() : name;
}

/** A property's string value, or undefined. */
export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}
