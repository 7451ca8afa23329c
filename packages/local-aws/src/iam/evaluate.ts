/**
 * One statement of an identity-based IAM policy, as a CloudFormation template or a policy
 * document holds it. `Condition` is carried but not evaluated (see {@link isAllowed}).
 */
export interface PolicyStatement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
  Condition?: unknown;
}

/**
 * Decides a request as IAM decides it for an identity's policies: an explicit `Deny` that matches
 * wins, otherwise a matching `Allow` is needed, otherwise the request is implicitly denied.
 * Actions match case-insensitively (`s3:getobject` is `s3:GetObject`), resources
 * case-sensitively; both take the wildcards `*` (any run of characters, `:` and `/` included) and
 * `?` (one character). Not modelled: resource policies, permission boundaries, SCPs, policy
 * variables, `NotAction`/`NotResource`, and conditions: a statement with a `Condition` counts as
 * if the condition held.
 *
 * @example
 * ```ts
 * const statements: PolicyStatement[] = [{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: 'arn:aws:lambda:*:*:function:baton-*' }];
 * isAllowed(statements, 'lambda:invokefunction', 'arn:aws:lambda:us-east-1:000000000000:function:baton-plan'); // true
 * ```
 */
export function isAllowed(statements: PolicyStatement[], action: string, resource: string): boolean {
  let allowed = false;
  for (const s of statements) {
    if (!list(s.Action).some((p) => matches(p, action, true))) continue;
    if (!list(s.Resource).some((p) => matches(p, resource, false))) continue;
    if (s.Effect === 'Deny') return false;
    if (s.Effect === 'Allow') allowed = true;
  }
  return allowed;
}

function list(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

const compiled = new Map<string, RegExp>();

/** IAM wildcard match of a whole string: `*` any run, `?` one character, nothing else special. */
function matches(pattern: string, value: string, ignoreCase: boolean): boolean {
  const key = `${ignoreCase ? 'i' : 's'}:${pattern}`;
  let re = compiled.get(key);
  if (!re) {
    const body = pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    re = new RegExp(`^${body}$`, ignoreCase ? 'is' : 's');
    compiled.set(key, re);
  }
  return re.test(value);
}
