import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { randomUUID } from 'node:crypto';

/** Creates a table of the shape `BatonStateMachine` `modelBudgets` deploys: key `pk` (string), on demand, TTL on `expiresAt`. */
export async function createBudgetTable(client: DynamoDBClient): Promise<string> {
  const name = `baton-budgets-${randomUUID().slice(0, 8)}`;
  await client.send(
    new CreateTableCommand({
      TableName: name,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await client.send(new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true } }));
  return name;
}

/** A DynamoDB client on moto, with these keys; `actions` records the IAM action of every request it sends. */
export function dynamoClient(endpoint: string, keys = { accessKeyId: 'test', secretAccessKey: 'test' }): { client: DynamoDBClient; actions: Set<string> } {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: keys, maxAttempts: 2 });
  const actions = new Set<string>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      actions.add(`dynamodb:${String(context.commandName).replace(/Command$/, '')}`);
      return next(args);
    },
    { step: 'initialize', name: 'recordActions' },
  );
  return { client, actions };
}

/**
 * An IAM call on a moto server started with `INITIAL_NO_AUTH_ACTION_COUNT`, within its
 * unauthenticated requests (moto routes on the signing scope and checks no signature for them).
 */
export async function unauthenticatedIam(endpoint: string, action: string, params: Record<string, string>): Promise<string> {
  const res = await fetch(`${endpoint}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      authorization: 'AWS4-HMAC-SHA256 Credential=AKIABOOTSTRAP/20261205/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: new URLSearchParams({ Action: action, Version: '2010-05-08', ...params }).toString(),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`IAM ${action}: HTTP ${res.status}: ${text.slice(0, 300)}`);
  return text;
}

/** A user holding exactly `statements` (inline), and its access key: unauthenticated requests 3. */
export async function userWithPolicy(endpoint: string, statements: unknown[]): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  const user = `stage-${randomUUID().slice(0, 8)}`;
  await unauthenticatedIam(endpoint, 'CreateUser', { UserName: user });
  await unauthenticatedIam(endpoint, 'PutUserPolicy', {
    UserName: user,
    PolicyName: 'role',
    PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: statements }),
  });
  const xml = await unauthenticatedIam(endpoint, 'CreateAccessKey', { UserName: user });
  const value = (tag: string): string => new RegExp(`<${tag}>([^<]+)</${tag}>`).exec(xml)![1]!;
  return { accessKeyId: value('AccessKeyId'), secretAccessKey: value('SecretAccessKey') };
}

/**
 * A proxy that passes requests to moto one at a time. DynamoDB applies a conditional write
 * atomically per item; moto's server is threaded and its DynamoDB takes no lock, so two concurrent
 * `UpdateItem`s may both pass one condition there. Serialising requests restores the atomicity the
 * limiter relies on (and AWS provides) while the limiters' read-decide-write rounds still interleave.
 */
export async function oneAtATime(target: string): Promise<{ url: string; close(): Promise<void>; [Symbol.asyncDispose](): Promise<void> }> {
  const { createServer } = await import('node:http');
  let tail: Promise<unknown> = Promise.resolve();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const forward = async (): Promise<void> => {
        const headers = Object.fromEntries(
          Object.entries(req.headers).filter(([k, v]) => typeof v === 'string' && k !== 'host' && k !== 'content-length'),
        ) as Record<string, string>;
        const answer = await fetch(`${target}${req.url ?? '/'}`, { method: req.method ?? 'POST', headers, body: chunks.length ? Buffer.concat(chunks) : null });
        const body = Buffer.from(await answer.arrayBuffer());
        res.writeHead(answer.status, Object.fromEntries(answer.headers.entries()));
        res.end(body);
      };
      tail = tail.then(forward).catch(() => res.destroy());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const close = (): Promise<void> => new Promise<void>((r) => server.close(() => r()));
  return { url: `http://127.0.0.1:${port}`, close, [Symbol.asyncDispose]: close };
}
