import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { signedFetch, type Credentials } from './sign.js';

/** A moto server started with IAM enforced, and the admin user the rehearsal sets up with. */
export interface EnforcingMoto {
  endpoint: string;
  /** Keys of the admin user (`Action: *`) created by the first unauthenticated requests. */
  admin: Credentials;
  adminArn: string;
  /** A signed IAM (query protocol) call as the admin; the response body. */
  iam(action: string, params?: Record<string, string>): Promise<string>;
  close(): Promise<void>;
}

/** Requests moto serves unauthenticated: CreateUser, PutUserPolicy and CreateAccessKey of the admin. */
const BOOTSTRAP_REQUESTS = 3;
const ADMIN_USER = 'baton-rehearsal-admin';

/**
 * Starts `moto_server` on a free loopback port with `INITIAL_NO_AUTH_ACTION_COUNT=3`: its first
 * three requests create an admin user with an `Action: *` policy and its access key; every
 * request after them is authenticated (SigV4 against the user's keys) and authorised against the
 * caller's IAM policies. AWS managed policies are loaded (`MOTO_IAM_LOAD_MANAGED_POLICIES`) so a
 * role's managed policy ARNs attach; `MOTO_ACCOUNT_ID` makes the template's account moto's.
 *
 * The binary: `options.binary`, else MOTO_SERVER, else `<repo>/.venv-moto/bin/moto_server`
 * (scripts/prereqs.sh), else `moto_server` on PATH.
 */
export async function startEnforcingMoto(options: { account: string; region: string; binary?: string; port?: number }): Promise<EnforcingMoto> {
  const port = options.port ?? (await freePort());
  const child: ChildProcess = spawn(motoBinary(options.binary), ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, INITIAL_NO_AUTH_ACTION_COUNT: String(BOOTSTRAP_REQUESTS), MOTO_ACCOUNT_ID: options.account, MOTO_IAM_LOAD_MANAGED_POLICIES: 'true' },
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const endpoint = `http://127.0.0.1:${port}`;
  const close = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with code ${child.exitCode}: ${stderr}`);
    // the moto-api is not an AWS action: it does not use up the unauthenticated requests
    if (
      await fetch(`${endpoint}/moto-api/`).then(
        (r) => r.status < 500,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline) {
      await close();
      throw new Error(`moto_server did not answer on ${endpoint} within 30 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const call = async (credentials: Credentials, action: string, params: Record<string, string> = {}): Promise<string> => {
    const body = new URLSearchParams({ Action: action, Version: '2010-05-08', ...params }).toString();
    const res = await signedFetch(
      { method: 'POST', url: `${endpoint}/`, headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body },
      'iam',
      options.region,
      credentials,
    );
    if (res.status >= 300) throw new Error(`IAM ${action} on moto: HTTP ${res.status}: ${res.text.slice(0, 500)}`);
    return res.text;
  };
  try {
    // unauthenticated: moto checks no signature for these three (any key signs them)
    const bootstrap = { accessKeyId: 'AKIAREHEARSALBOOTSTRAP', secretAccessKey: 'bootstrap' };
    const user = await call(bootstrap, 'CreateUser', { UserName: ADMIN_USER });
    await call(bootstrap, 'PutUserPolicy', {
      UserName: ADMIN_USER,
      PolicyName: 'admin',
      PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }),
    });
    const admin = accessKeyOf(await call(bootstrap, 'CreateAccessKey', { UserName: ADMIN_USER }));
    const adminArn = xmlValue(user, 'Arn') ?? `arn:aws:iam::${options.account}:user/${ADMIN_USER}`;
    return { endpoint, admin, adminArn, iam: (action, params) => call(admin, action, params), close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** The access key of a CreateAccessKey response. */
export function accessKeyOf(xml: string): Credentials {
  const accessKeyId = xmlValue(xml, 'AccessKeyId');
  const secretAccessKey = xmlValue(xml, 'SecretAccessKey');
  if (!accessKeyId || !secretAccessKey) throw new Error(`CreateAccessKey answered without a key: ${xml.slice(0, 300)}`);
  return { accessKeyId, secretAccessKey };
}

/** The text of the first `<tag>` of an XML answer. */
export function xmlValue(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  return m ? decodeXml(m[1]!) : undefined;
}

function decodeXml(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function motoBinary(explicit: string | undefined): string {
  const repo = resolve(import.meta.dirname, '../../../..');
  const candidates = [explicit, process.env.MOTO_SERVER, join(repo, '.venv-moto', 'bin', 'moto_server')].filter((c): c is string => Boolean(c));
  for (const c of candidates) if (existsSync(c)) return c;
  const which = spawnSync('sh', ['-c', 'command -v moto_server'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim();
  throw new Error(
    'moto_server not found: run scripts/prereqs.sh (or python3 -m venv .venv-moto && .venv-moto/bin/pip install "moto[server]"), or set MOTO_SERVER',
  );
}

/** A free loopback TCP port. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((res, rej) => {
    const server = createServer();
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      server.close(() => (typeof a === 'object' && a ? res(a.port) : rej(new Error('no free port'))));
    });
  });
}
