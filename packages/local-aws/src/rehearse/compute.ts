import { PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { functionCodeDir } from './cloud-assembly.js';
import { physicalName, str, type CreateContext, type Creator, type RuleTarget, type StateMachineSpec } from './context.js';
import { attachManagedPolicy, createManagedPolicy, createRoleUser, putInlinePolicy } from './iam.js';
import type { RolePrincipal } from './principals.js';

const role: Creator = async (ctx, id, props) => {
  const roleName = str(props.RoleName) ?? physicalName(ctx.stack.name, id, 64);
  const roleArn = `arn:aws:iam::${ctx.account}:role${str(props.Path) ?? '/'}${roleName}`;
  await createRoleUser(ctx.moto, ctx.registry, {
    logicalId: id,
    roleName,
    roleArn,
    managedPolicyArns: ((props.ManagedPolicyArns as unknown[] | undefined) ?? []).map(String),
    inlinePolicies: (props.Policies as { PolicyName: string; PolicyDocument: unknown }[] | undefined) ?? [],
  });
  return {
    status: 'created',
    ref: roleName,
    attributes: { Arn: roleArn, RoleId: `AROA${roleName.slice(-16).toUpperCase()}` },
    note: 'as an IAM user on moto holding its policies',
  };
};

const policy: Creator = async (ctx, id, props) => {
  const name = str(props.PolicyName) ?? id;
  const roles = ((props.Roles as unknown[] | undefined) ?? []).map(String);
  if ((props.Users as unknown[] | undefined)?.length || (props.Groups as unknown[] | undefined)?.length)
    throw new Error(`policy ${id}: policies on IAM users or groups are not rehearsed (only on roles)`);
  for (const r of roles) await putInlinePolicy(ctx.moto, roleByName(ctx, r, id), name, props.PolicyDocument);
  return { status: 'created', ref: `${name.slice(0, 40)}-${id.slice(-8)}`, attributes: { Id: name } };
};

const managedPolicy: Creator = async (ctx, id, props) => {
  const name = str(props.ManagedPolicyName) ?? physicalName(ctx.stack.name, id, 128);
  const arn = await createManagedPolicy(ctx.moto, name, props.PolicyDocument);
  for (const r of ((props.Roles as unknown[] | undefined) ?? []).map(String)) await attachManagedPolicy(ctx.moto, roleByName(ctx, r, id), arn);
  return { status: 'created', ref: arn, attributes: { PolicyArn: arn } };
};

const lambdaFunction: Creator = (ctx, id, props) => {
  const name = str(props.FunctionName) ?? physicalName(ctx.stack.name, id, 64);
  const arn = `arn:aws:lambda:${ctx.region}:${ctx.account}:function:${name}`;
  const principal = roleByArn(ctx, String(props.Role), id);
  principal.usedBy.push(name);
  const [file, handler] = splitHandler(str(props.Handler) ?? 'index.handler');
  const dir = functionCodeDir(ctx.stack, id, ctx.stack.template.Resources[id]!);
  const entry = ['.mjs', '.js', '.cjs'].map((ext) => join(dir, file + ext)).find((f) => existsSync(f));
  if (!entry) throw new Error(`function ${id}: no ${file}.mjs/.js/.cjs in its asset ${dir} (Handler ${String(props.Handler)})`);
  const runtime = str(props.Runtime) ?? '';
  if (!runtime.startsWith('nodejs')) throw new Error(`function ${id}: runtime ${runtime} is not rehearsed (Node.js functions only)`);
  const variables = ((props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}) as Record<string, unknown>;
  ctx.functions.push({
    logicalId: id,
    name,
    arn,
    entry,
    handler,
    environment: Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, String(v)])),
    role: principal,
    timeoutSeconds: Number(props.Timeout ?? 3),
    memoryMb: Number(props.MemorySize ?? 128),
    tracing: (props.TracingConfig as { Mode?: string } | undefined)?.Mode === 'Active',
  });
  return Promise.resolve({ status: 'created', ref: name, attributes: { Arn: arn }, note: `on the local Lambda endpoint from ${entry}` });
};

/**
 * A published version: the rehearsal has one code per function, so every version runs it; the Ref
 * is the qualified ARN (`…:function:name:1`) that a state machine calling versions invokes.
 */
const lambdaVersion: Creator = (ctx, id, props) => {
  const fn = String(props.FunctionName);
  const arn = fn.startsWith('arn:') ? fn : `arn:aws:lambda:${ctx.region}:${ctx.account}:function:${fn}`;
  return Promise.resolve({
    status: 'named',
    ref: `${arn}:1`,
    attributes: { Version: '1', FunctionArn: arn },
    note: 'version 1 of the function on the local Lambda endpoint',
  });
};

const permission: Creator = (ctx, id, props) => {
  const fn = String(props.FunctionName);
  const arn = fn.startsWith('arn:') ? fn : `arn:aws:lambda:${ctx.region}:${ctx.account}:function:${fn}`;
  const statement: Record<string, unknown> = { Effect: 'Allow', Action: props.Action, Principal: { Service: props.Principal }, Resource: arn };
  if (props.SourceArn) statement.Condition = { ArnLike: { 'aws:SourceArn': props.SourceArn } };
  ctx.resourcePolicies.push({ logicalId: id, resources: [arn], statements: [statement] });
  return Promise.resolve({ status: 'created', ref: id, attributes: {}, note: "the function's resource policy, checked when a rule invokes it" });
};

const stateMachine: Creator = (ctx, id, props) => {
  const name = str(props.StateMachineName) ?? physicalName(ctx.stack.name, id, 80);
  const arn = `arn:aws:states:${ctx.region}:${ctx.account}:stateMachine:${name}`;
  const raw = str(props.DefinitionString) ?? (props.Definition ? JSON.stringify(props.Definition) : undefined);
  if (!raw) throw new Error(`state machine ${id}: DefinitionS3Location is not rehearsed (give DefinitionString or Definition)`);
  const substitutions = (props.DefinitionSubstitutions ?? {}) as Record<string, unknown>;
  const definition = raw.replace(/\$\{([^}]+)\}/g, (whole, key: string) => (key in substitutions ? String(substitutions[key]) : whole));
  const principal = roleByArn(ctx, String(props.RoleArn), id);
  principal.usedBy.push(`state machine ${name}`);
  ctx.stateMachines.push({
    logicalId: id,
    name,
    arn,
    type: props.StateMachineType === 'EXPRESS' ? 'EXPRESS' : 'STANDARD',
    definition,
    role: principal,
    tracing: (props.TracingConfiguration as { Enabled?: boolean } | undefined)?.Enabled === true,
  });
  return Promise.resolve({
    status: 'created',
    ref: arn,
    attributes: { Arn: arn, Name: name, StateMachineRevisionId: 'rehearsal' },
    note: 'on the local Step Functions endpoint',
  });
};

/** The state machine of the template an ARN (or a version ARN, `<machine ARN>:<n>`) names. */
function machineOf(ctx: CreateContext, arn: string, id: string): StateMachineSpec {
  const spec = ctx.stateMachines.find((m) => m.arn === arn || arn.startsWith(`${m.arn}:`));
  if (!spec) throw new Error(`${id}: ${arn} is not a state machine of this template`);
  return spec;
}

// one rehearsal deploys one revision: its version is version 1, as a Lambda version is
const stateMachineVersion: Creator = (ctx, id, props) => {
  const spec = machineOf(ctx, String(props.StateMachineArn), id);
  spec.published = true;
  const arn = `${spec.arn}:1`;
  return Promise.resolve({
    status: 'created',
    ref: arn,
    attributes: { Arn: arn },
    note: 'version 1 of the state machine on the local Step Functions endpoint',
  });
};

const stateMachineAlias: Creator = (ctx, id, props) => {
  const routing = (props.RoutingConfiguration as { StateMachineVersionArn?: unknown }[] | undefined) ?? [];
  if (routing.length !== 1 || props.DeploymentPreference !== undefined) throw new Error(`alias ${id}: only an alias routing to one version is rehearsed`);
  const spec = machineOf(ctx, String(routing[0]!.StateMachineVersionArn), id);
  const name = String(props.Name);
  (spec.aliases ??= []).push(name);
  const arn = `${spec.arn}:${name}`;
  return Promise.resolve({ status: 'created', ref: arn, attributes: { Arn: arn }, note: 'an alias of version 1 on the local Step Functions endpoint' });
};

const rule: Creator = async (ctx, id, props) => {
  const name = str(props.Name) ?? physicalName(ctx.stack.name, id, 64);
  const pattern = props.EventPattern as Record<string, unknown> | undefined;
  const bus = str(props.EventBusName);
  const out = await ctx.clients.events.send(
    new PutRuleCommand({
      Name: name,
      ...(pattern ? { EventPattern: JSON.stringify(pattern) } : {}),
      ...(props.ScheduleExpression ? { ScheduleExpression: String(props.ScheduleExpression) } : {}),
      State: props.State === 'DISABLED' ? 'DISABLED' : 'ENABLED',
      ...(props.Description ? { Description: String(props.Description) } : {}),
      ...(bus ? { EventBusName: bus } : {}),
    }),
  );
  const targets = (props.Targets as RuleTarget[] | undefined) ?? [];
  if (targets.length)
    await ctx.clients.events.send(new PutTargetsCommand({ Rule: name, ...(bus ? { EventBusName: bus } : {}), Targets: targets.map(motoTarget) }));
  const arn = out.RuleArn ?? `arn:aws:events:${ctx.region}:${ctx.account}:rule/${name}`;
  ctx.rules.push({ logicalId: id, name, arn, pattern, enabled: props.State !== 'DISABLED', targets });
  return { status: 'created', ref: name, attributes: { Arn: arn }, note: 'on moto; its events are routed to its targets by the rehearsal' };
};

/** The target as moto's PutTargets takes it (it keeps them; the rehearsal delivers). */
function motoTarget(t: RuleTarget): RuleTarget {
  return {
    Id: t.Id,
    Arn: t.Arn,
    ...(t.Input ? { Input: t.Input } : {}),
    ...(t.InputPath ? { InputPath: t.InputPath } : {}),
    ...(t.InputTransformer ? { InputTransformer: t.InputTransformer } : {}),
  };
}

function roleByArn(ctx: CreateContext, arn: string, user: string): RolePrincipal {
  const r = ctx.registry.roles().find((p) => p.roleArn === arn);
  if (!r) throw new Error(`${user}: its role ${arn} is not a role of this template (imported roles are not rehearsed)`);
  return r;
}

function roleByName(ctx: CreateContext, name: string, user: string): RolePrincipal {
  const r = ctx.registry.roles().find((p) => p.roleName === name || p.roleArn === name);
  if (!r) throw new Error(`${user}: role ${name} is not a role of this template (imported roles are not rehearsed)`);
  return r;
}

/** `index.handler` → ['index', 'handler']; `src/app.main` → ['src/app', 'main']. */
function splitHandler(handler: string): [string, string] {
  const dot = handler.lastIndexOf('.');
  return dot < 0 ? [handler, 'handler'] : [handler.slice(0, dot), handler.slice(dot + 1)];
}

/** Creators of IAM, Lambda, Step Functions and EventBridge types. */
export const COMPUTE_CREATORS: Record<string, Creator> = {
  'AWS::IAM::Role': role,
  'AWS::IAM::Policy': policy,
  'AWS::IAM::ManagedPolicy': managedPolicy,
  'AWS::Lambda::Function': lambdaFunction,
  'AWS::Lambda::Permission': permission,
  'AWS::Lambda::Version': lambdaVersion,
  'AWS::StepFunctions::StateMachine': stateMachine,
  'AWS::StepFunctions::StateMachineVersion': stateMachineVersion,
  'AWS::StepFunctions::StateMachineAlias': stateMachineAlias,
  'AWS::Events::Rule': rule,
};
