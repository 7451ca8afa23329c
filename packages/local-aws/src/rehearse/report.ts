import type { IamDenial } from './principals.js';
import type { Rehearsal } from './rehearse.js';

/**
 * The short report of a rehearsal: what was created (by type), what was only named or skipped,
 * the endpoints and environment to point a CLI at, the stack outputs, and the IAM denials.
 *
 * @example
 * ```ts
 * console.log(formatRehearsalReport(await rehearse('cdk.out', { databaseUrl })));
 * ```
 */
export function formatRehearsalReport(r: Rehearsal): string {
  const lines: string[] = [`Rehearsal of stack ${r.stackName} (account ${r.account}, ${r.region})`];
  const byType = new Map<string, number>();
  for (const x of r.resources.filter((x) => x.status === 'created')) byType.set(x.type, (byType.get(x.type) ?? 0) + 1);
  lines.push(`  created: ${[...byType].map(([t, n]) => `${n} ${t.replace(/^AWS::/, '')}`).join(', ')}`);
  const notCreated = r.resources.filter((x) => x.status !== 'created');
  if (notCreated.length) {
    const groups = new Map<string, number>();
    for (const x of notCreated) groups.set(`${x.type} (${x.note ?? x.status})`, (groups.get(`${x.type} (${x.note ?? x.status})`) ?? 0) + 1);
    lines.push('  not created:');
    for (const [what, n] of groups) lines.push(`    ${n} ${what}`);
  }
  lines.push('Endpoints:');
  lines.push(`  AWS (every service, IAM enforced): ${r.endpoints.aws}`);
  lines.push(`  Step Functions ${r.endpoints.stepFunctions}, Lambda ${r.endpoints.lambda}, Bedrock ${r.endpoints.bedrock}, moto ${r.endpoints.moto}`);
  if (r.stateMachineArn) lines.push(`  state machine: ${r.stateMachineArn}`);
  const outputs = Object.entries(r.outputs);
  if (outputs.length) {
    lines.push('Stack outputs:');
    for (const [k, v] of outputs) lines.push(`  ${k} = ${v}`);
  }
  lines.push('To drive it from another shell (admin credentials):');
  for (const k of ['AWS_ENDPOINT_URL', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) lines.push(`  export ${k}=${r.env[k]}`);
  if (r.stateMachineArn) lines.push(`  baton status --engine stepfunctions --state-machine-arn ${r.stateMachineArn}`);
  lines.push(formatDenials(r.denials));
  return lines.join('\n');
}

/** `IAM denials: 0`, or one line per denial (principal, action, resource, who refused). */
export function formatDenials(denials: IamDenial[]): string {
  if (denials.length === 0) return 'IAM denials: 0';
  return [`IAM denials: ${denials.length}`, ...denials.map((d) => `  ${d.principal} may not ${d.action} on ${d.resource} (refused by ${d.enforcedBy})`)].join(
    '\n',
  );
}
