import type { Rehearsal } from '@baton/local-aws';
import { existsSync } from 'node:fs';
import { CliError } from '../errors.js';
import type { GlobalOptions } from '../session.js';

/** Options of `baton rehearse`. */
export interface RehearseCommandOptions {
  /** Secret values the template imports, `name-or-ARN=value` (repeatable). */
  secret?: string[];
  /** The stack of the cloud assembly (when it has several). */
  stack?: string;
  /** Port of the AWS endpoint (every service). @default 4566 */
  port?: string;
  /** Port of the local Step Functions endpoint. @default 8083 */
  sfnPort?: string;
  /** Port of the local Lambda endpoint. @default 3001 */
  lambdaPort?: string;
  /** Scale of retry intervals and waits (1 = real time). @default 1 */
  timeScale?: string;
}

/**
 * `baton rehearse <cdk.out>`: creates the synthesized stack's resources offline (moto with IAM
 * enforced, the local Step Functions, Lambda and Bedrock endpoints, the PostgreSQL of
 * `--database-url` behind the registry's secret), prints what it created, the endpoints and the
 * environment to drive it with (`baton … --engine stepfunctions`), subscribes a queue to the
 * stack's review topic and prints each review notice, prints every IAM denial as it happens, and
 * runs until SIGINT or SIGTERM. Exit code 1 when a denial was seen.
 */
export async function rehearseCommand(cdkOut: string, opts: RehearseCommandOptions, global: GlobalOptions): Promise<number> {
  if (!existsSync(cdkOut)) throw new CliError(`${cdkOut} does not exist: synthesize the app first (cd <out>/cdk && npx cdk synth)`);
  const secrets: Record<string, string> = {};
  for (const s of opts.secret ?? []) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new CliError(`--secret ${s}: use <name or ARN>=<value>`);
    secrets[s.slice(0, eq)] = s.slice(eq + 1);
  }
  const port = (value: string | undefined, fallback: number, flag: string): number => {
    const n = Number(value ?? fallback);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CliError(`${flag} ${value}: use a TCP port number (0 picks a free one)`);
    return n;
  };
  const timeScale = Number(opts.timeScale ?? 1);
  if (!(timeScale > 0)) throw new CliError(`--time-scale ${opts.timeScale}: use a positive number (0.01 runs retries 100 times faster)`);
  const databaseUrl = global.databaseUrl ?? process.env.DATABASE_URL;
  const { rehearse, formatRehearsalReport, formatDenials } = await import('@baton/local-aws');
  let rehearsal: Rehearsal;
  try {
    rehearsal = await rehearse(cdkOut, {
      ...(databaseUrl ? { databaseUrl } : {}),
      secrets,
      ...(opts.stack ? { stack: opts.stack } : {}),
      timeScale,
      ports: {
        gateway: port(opts.port, 4566, '--port'),
        stepFunctions: port(opts.sfnPort, 8083, '--sfn-port'),
        lambda: port(opts.lambdaPort, 3001, '--lambda-port'),
      },
      log: (line) => void process.stdout.write(`  ${line}\n`),
    });
  } catch (e) {
    throw new CliError(`rehearsal failed: ${(e as Error).message}`);
  }
  let denied = 0;
  rehearsal.onDenial((d) => {
    denied++;
    process.stdout.write(`IAM DENIED: ${formatDenials([d]).split('\n')[1]!.trim()}\n`);
  });
  let stopped = false;
  const watching: Promise<void>[] = [];
  try {
    process.stdout.write(`${formatRehearsalReport(rehearsal)}\n`);
    for (const [key, topicArn] of Object.entries(rehearsal.outputs).filter(([k]) => /ReviewTopicArn/.test(k))) {
      const queueUrl = await rehearsal.subscribeQueue(topicArn, 'baton-rehearse-reviewer');
      process.stdout.write(`review notices of ${key} are printed here (queue ${queueUrl})\n`);
      watching.push(printNotices(rehearsal, queueUrl, () => stopped));
    }
    process.stdout.write('Rehearsal running. Stop with Ctrl-C.\n');
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    process.stdout.write(`${signal}: rehearsal stopped. ${formatDenials(rehearsal.denials).split('\n')[0]}\n`);
  } finally {
    stopped = true;
    await Promise.all(watching).catch(() => undefined);
    await rehearsal.close();
  }
  return denied > 0 ? 1 : 0;
}

/** Prints each notice arriving on the reviewer's queue until `stopped()`. */
async function printNotices(rehearsal: Rehearsal, queueUrl: string, stopped: () => boolean): Promise<void> {
  while (!stopped()) {
    const m = await rehearsal.nextMessage(queueUrl, 1000);
    if (m) process.stdout.write(`REVIEW NOTICE${m.subject ? ` (${m.subject})` : ''}:\n${m.message}\n`);
  }
}
