import { isAllowed, type PolicyStatement } from '../iam/evaluate.js';
import type { Credentials } from './sign.js';

/** One request the rehearsal refused (or saw refused) for want of an IAM permission. */
export interface IamDenial {
  /** Who asked: the role (and the functions or state machine using it), or a service principal. */
  principal: string;
  /** The IAM action, e.g. `bedrock:InvokeModel`. */
  action: string;
  /** The resource ARN it was asked on (`*` where the action has none). */
  resource: string;
  /** Who refused it: moto itself (S3, SQS), the rehearsal's gateway (services moto authorises against `*`), the local Lambda or Bedrock, or an EventBridge target's resource policy. */
  enforcedBy: 'moto' | 'gateway' | 'lambda' | 'bedrock' | 'resource-policy';
  /** ISO time. */
  at: string;
}

/** A role of the template as the rehearsal enforces it: an IAM user on moto with the role's policies and an access key. */
export interface RolePrincipal {
  kind: 'role';
  /** Logical id of the AWS::IAM::Role. */
  logicalId: string;
  /** The role's name and ARN (what the template's Ref / GetAtt give). */
  roleName: string;
  roleArn: string;
  /** The moto IAM user standing in for the role, and its key. */
  userArn: string;
  credentials: Credentials;
  /** Statements of every inline policy (AWS::IAM::Policy) and managed policy attached to it, by policy name. */
  policies: Map<string, PolicyStatement[]>;
  /** Functions and state machines that run as this role (for messages). */
  usedBy: string[];
}

/** The rehearsal's admin (set-up, test and CLI clients) or an AWS service principal acting for a rule. */
export interface OtherPrincipal {
  kind: 'admin' | 'service';
  name: string;
  credentials: Credentials;
}

/** Any principal the rehearsal signs for. */
export type Principal = RolePrincipal | OtherPrincipal;

/**
 * Who holds which access key, what each may do, and every denial seen. The moto user of a role
 * holds exactly the role's policies; this registry keeps the same statements so that the
 * rehearsal can decide where moto cannot (it authorises most services against `*`).
 */
export class PrincipalRegistry {
  readonly denials: IamDenial[] = [];
  private readonly byKey = new Map<string, Principal>();
  private readonly listeners: ((d: IamDenial) => void)[] = [];

  add(principal: Principal): void {
    this.byKey.set(principal.credentials.accessKeyId, principal);
  }

  /** The principal signing with `accessKeyId`, if the rehearsal made that key. */
  principalOf(accessKeyId: string | undefined): Principal | undefined {
    return accessKeyId ? this.byKey.get(accessKeyId) : undefined;
  }

  /** Every role principal. */
  roles(): RolePrincipal[] {
    return [...this.byKey.values()].filter((p): p is RolePrincipal => p.kind === 'role');
  }

  /** Whether a role principal's policies allow `action` on `resource` (H6's evaluator: explicit Deny wins). */
  allows(principal: RolePrincipal, action: string, resource: string): boolean {
    return isAllowed([...principal.policies.values()].flat(), action, resource);
  }

  /** Records a denial (and tells the listeners). */
  deny(principal: Principal | string, action: string, resource: string, enforcedBy: IamDenial['enforcedBy']): IamDenial {
    const denial: IamDenial = {
      principal: typeof principal === 'string' ? principal : describePrincipal(principal),
      action,
      resource,
      enforcedBy,
      at: new Date().toISOString(),
    };
    this.denials.push(denial);
    for (const l of this.listeners) l(denial);
    return denial;
  }

  /** Calls `listener` on every later denial. */
  onDenial(listener: (d: IamDenial) => void): void {
    this.listeners.push(listener);
  }
}

/** `role <name> (<functions>)`, the admin's or a service's name. */
export function describePrincipal(p: Principal): string {
  if (p.kind !== 'role') return p.name;
  return `role ${p.logicalId}${p.usedBy.length ? ` (${p.usedBy.join(', ')})` : ''}`;
}

/**
 * The statements of an IAM policy document as the evaluator takes them. `NotAction` /
 * `NotResource` statements are kept out (and named in the returned `unsupported`), so the
 * rehearsal never grants more than the template does.
 */
export function statementsOf(document: unknown): { statements: PolicyStatement[]; unsupported: unknown[] } {
  const raw = (document as { Statement?: unknown } | undefined)?.Statement;
  const list = Array.isArray(raw) ? raw : raw ? [raw] : [];
  const statements: PolicyStatement[] = [];
  const unsupported: unknown[] = [];
  for (const s of list as Record<string, unknown>[]) {
    if (s.NotAction !== undefined || s.NotResource !== undefined || (s.Effect !== 'Allow' && s.Effect !== 'Deny')) {
      unsupported.push(s);
      continue;
    }
    statements.push({
      Effect: s.Effect,
      Action: s.Action as string | string[],
      Resource: (s.Resource ?? '*') as string | string[],
      ...(s.Condition ? { Condition: s.Condition } : {}),
    });
  }
  return { statements, unsupported };
}
