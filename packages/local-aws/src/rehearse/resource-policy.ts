import { isAllowed } from '../iam/evaluate.js';
import type { ResourcePolicy } from './context.js';

/**
 * Whether the resource policies attached to `resource` let an AWS service principal (EventBridge
 * delivering a rule's event: `events.amazonaws.com`) do `action` on it, with the request context
 * `context` (`aws:SourceArn`, `aws:SourceAccount`). Statements naming the service (or `*`) apply
 * when their conditions hold (ArnEquals/ArnLike/StringEquals/StringLike/Bool, `…IfExists`);
 * `aws:SecureTransport` is true, the rehearsal standing in for AWS's TLS endpoints. An explicit
 * Deny wins, an Allow is needed.
 */
export function servicePrincipalAllowed(
  policies: ResourcePolicy[],
  service: string,
  action: string,
  resource: string,
  context: Record<string, string>,
): boolean {
  const applicable = policies
    .filter((p) => p.resources.includes(resource))
    .flatMap((p) => p.statements)
    .filter((s) => namesService(s.Principal, service) && conditionsHold(s.Condition as Conditions | undefined, { 'aws:SecureTransport': 'true', ...context }));
  return isAllowed(
    applicable.map((s) => ({
      Effect: s.Effect as 'Allow' | 'Deny',
      Action: s.Action as string | string[],
      Resource: (s.Resource ?? resource) as string | string[],
    })),
    action,
    resource,
  );
}

type Conditions = Record<string, Record<string, string | string[]>>;

function namesService(principal: unknown, service: string): boolean {
  if (principal === '*') return true;
  const p = principal as { Service?: string | string[]; AWS?: string | string[] } | undefined;
  return [p?.Service ?? []].flat().includes(service) || [p?.AWS ?? []].flat().includes('*');
}

function conditionsHold(conditions: Conditions | undefined, context: Record<string, string>): boolean {
  for (const [operator, tests] of Object.entries(conditions ?? {})) {
    const ifExists = operator.endsWith('IfExists');
    const op = ifExists ? operator.slice(0, -'IfExists'.length) : operator;
    for (const [key, expected] of Object.entries(tests)) {
      const actual = context[key];
      if (actual === undefined) {
        if (ifExists) continue;
        return false;
      }
      if (![expected].flat().some((e) => compare(op, actual, String(e)))) return false;
    }
  }
  return true;
}

function compare(op: string, actual: string, expected: string): boolean {
  switch (op) {
    case 'ArnEquals':
    case 'StringEquals':
    case 'Bool':
      return actual === expected;
    case 'StringEqualsIgnoreCase':
      return actual.toLowerCase() === expected.toLowerCase();
    case 'ArnLike':
    case 'StringLike':
      return new RegExp(
        `^${expected
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '.*')
          .replace(/\?/g, '.')}$`,
        's',
      ).test(actual);
    case 'ArnNotEquals':
    case 'StringNotEquals':
      return actual !== expected;
    default:
      // an operator the rehearsal does not know never grants
      return false;
  }
}
