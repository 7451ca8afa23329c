import type { EnforcingMoto } from './moto.js';
import { accessKeyOf, xmlValue } from './moto.js';
import { statementsOf, type PrincipalRegistry, type RolePrincipal } from './principals.js';

/**
 * Creates the stand-in of a template role: an IAM user on moto of the role's name, its managed
 * policies attached (their documents read back from moto for the rehearsal's own checks), its
 * inline `Policies`, and an access key, registered as the role's principal.
 */
export async function createRoleUser(
  moto: EnforcingMoto,
  registry: PrincipalRegistry,
  role: {
    logicalId: string;
    roleName: string;
    roleArn: string;
    managedPolicyArns: string[];
    inlinePolicies: { PolicyName: string; PolicyDocument: unknown }[];
  },
): Promise<RolePrincipal> {
  const user = await moto.iam('CreateUser', { UserName: role.roleName });
  const credentials = accessKeyOf(await moto.iam('CreateAccessKey', { UserName: role.roleName }));
  const principal: RolePrincipal = {
    kind: 'role',
    logicalId: role.logicalId,
    roleName: role.roleName,
    roleArn: role.roleArn,
    userArn: xmlValue(user, 'Arn') ?? '',
    credentials,
    policies: new Map(),
    usedBy: [],
  };
  registry.add(principal);
  for (const arn of role.managedPolicyArns) await attachManagedPolicy(moto, principal, arn);
  for (const p of role.inlinePolicies) await putInlinePolicy(moto, principal, p.PolicyName, p.PolicyDocument);
  return principal;
}

/** Puts an inline policy (an AWS::IAM::Policy on the role, or the role's own `Policies`) on the role's user. */
export async function putInlinePolicy(moto: EnforcingMoto, principal: RolePrincipal, name: string, document: unknown): Promise<void> {
  const { statements, unsupported } = statementsOf(document);
  if (unsupported.length)
    throw new Error(`policy ${name} of ${principal.logicalId}: NotAction / NotResource statements are not rehearsed: ${JSON.stringify(unsupported)}`);
  await moto.iam('PutUserPolicy', { UserName: principal.roleName, PolicyName: name, PolicyDocument: JSON.stringify(document) });
  principal.policies.set(name, statements);
}

/** Attaches a managed policy (AWS managed, loaded by moto, or one the template created) and keeps its statements. */
export async function attachManagedPolicy(moto: EnforcingMoto, principal: RolePrincipal, arn: string): Promise<void> {
  await moto.iam('AttachUserPolicy', { UserName: principal.roleName, PolicyArn: arn });
  const policy = await moto.iam('GetPolicy', { PolicyArn: arn });
  const version = xmlValue(policy, 'DefaultVersionId') ?? 'v1';
  const doc = xmlValue(await moto.iam('GetPolicyVersion', { PolicyArn: arn, VersionId: version }), 'Document');
  const { statements } = statementsOf(parseDocument(doc ?? '{}'));
  principal.policies.set(arn, statements);
}

/** Creates a customer managed policy (AWS::IAM::ManagedPolicy); returns its ARN. */
export async function createManagedPolicy(moto: EnforcingMoto, name: string, document: unknown): Promise<string> {
  const out = await moto.iam('CreatePolicy', { PolicyName: name, PolicyDocument: JSON.stringify(document) });
  const arn = xmlValue(out, 'Arn');
  if (!arn) throw new Error(`CreatePolicy ${name}: no ARN in ${out.slice(0, 300)}`);
  return arn;
}

/** A policy document as IAM returns it: URL-encoded JSON (AWS), or plain JSON (moto). */
function parseDocument(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return JSON.parse(decodeURIComponent(text)) as unknown;
  }
}
