import { CreateStateMachineAliasCommand, CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { createFsBlobStore, type AnyPipeline, type Engine, type ReviewNotice, type ReviewNotifier } from '@baton/core';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compileToAsl } from '../../compile/compile.js';
import { createBlobReviewStore } from '../../lambda/blob-reviews.js';
import { createStepFunctionsEngine } from '../engine.js';

/**
 * The deployed shape on `@baton/local-aws`'s endpoints, for tests of createStepFunctionsEngine: the
 * real Step Functions API (awsJson1.0) executing the compiled machines, their Tasks invoking the
 * Lambda Invoke API, each function a node process running this package's built handlers
 * (createStageHandler, createReviewGateHandler). Nothing in process but the engine: runs are
 * started, read, decided and redriven through `@aws-sdk/client-sfn` only.
 *
 * `@baton/local-aws` depends on this package, so it is loaded from its build by name (not a
 * declared dependency: a cycle); `turbo run build` builds it (CI builds everything first).
 */
const LOCAL_AWS = '@baton/local-aws';
const ROOT = join(import.meta.dirname, '../../../../..');
const BUILT = ['packages/local-aws/dist/index.js', 'packages/adapter-stepfunctions/dist/index.js', 'packages/core/dist/testkit/stages.js'];
const missing = BUILT.filter((p) => !existsSync(join(ROOT, p)));
if (missing.length) throw new Error(`this suite runs built code: ${missing.join(', ')} missing; run npx turbo run build --filter=@baton/local-aws...`);

interface LocalAws {
  startLocalLambda(options: {
    functions: { name: string; entry: string; environment: Record<string, string>; timeoutSeconds?: number }[];
    concurrency?: number;
  }): Promise<{ url: string; arnOf(name: string): string; close(): Promise<void> }>;
  startLocalStepFunctions(options: { endpoints: { lambda: string }; timeScale?: number; now?: () => number }): Promise<{ url: string; close(): Promise<void> }>;
}

const url = (p: string): string => pathToFileURL(join(ROOT, p)).href;

/** The functions of the deployment: every kit stage in one function, and the review gate (notices to the kit over HTTP). */
function writeHandlers(dir: string): { stages: string; gate: string } {
  const common = [
    `import { createStageHandler, createReviewGateHandler, createBlobReviewStore } from '${url('packages/adapter-stepfunctions/dist/index.js')}';`,
    `import { createFsBlobStore } from '${url('packages/core/dist/index.js')}';`,
    'const blobs = createFsBlobStore({ root: process.env.BATON_BLOB_DIR });',
  ];
  const stages = join(dir, 'stages.mjs');
  writeFileSync(
    stages,
    [
      ...common,
      `import { conformanceStages } from '${url('packages/core/dist/testkit/stages.js')}';`,
      'export const handler = createStageHandler({ stages: conformanceStages, blobs });',
    ].join('\n'),
  );
  const gate = join(dir, 'gate.mjs');
  writeFileSync(
    gate,
    [
      ...common,
      'const notifier = async (notice) => {',
      "  const res = await fetch(process.env.NOTICES_URL, { method: 'POST', body: JSON.stringify(notice) });",
      "  if (!res.ok) throw new Error('notice refused: ' + res.status);",
      '};',
      'export const handler = createReviewGateHandler({ store: createBlobReviewStore(blobs), notifier });',
    ].join('\n'),
  );
  return { stages, gate };
}

function listen(onNotice: (n: ReviewNotice) => void): Promise<Server> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      onNotice(JSON.parse(body) as ReviewNotice);
      res.writeHead(204).end();
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** A deployment on the local endpoints (see {@link deploy}). */
export interface LocalDeployment {
  engine: Engine;
  client: SFNClient;
  /** Per pipeline name, the ARN runs start on: the machine's, or its alias `v<version>` with `versions`. */
  stateMachines: Record<string, string>;
  /** Per pipeline name, the unqualified state machine ARN. */
  machines: Record<string, string>;
  /** The ASL definition of a pipeline as this deployment compiles it. */
  definitionOf(pipeline: AnyPipeline): string;
  /** Another engine on this deployment (closed with it), e.g. configured as after a redeploy. */
  engineFor(stateMachines: Record<string, string>, pipelines: AnyPipeline[]): Engine;
  close(): Promise<void>;
}

/** Options of {@link deploy}. */
export interface DeployOptions {
  /** Receives review notices. @default none */
  notifier?: ReviewNotifier;
  /**
   * Publish a state machine version and start runs on an alias `v<pipeline version>` routing to
   * it, as BatonStateMachine deploys. @default false (runs start on the unqualified machine)
   */
  versions?: boolean;
  /** The local Step Functions clock (RedriveExecution's 14-day window). @default Date.now */
  now?: () => number;
}

/**
 * Deploys pipelines on fresh local endpoints: every kit stage in one function, the review gate in
 * another, a state machine per pipeline (compiled as BatonStateMachine compiles it, minus the
 * dead-letter queue); the engine on the SFN API, the review store on the shared blob directory.
 */
export async function deploy(pipelines: AnyPipeline[], options: DeployOptions = {}): Promise<LocalDeployment> {
  const notifier: ReviewNotifier = options.notifier ?? (() => undefined);
  const localAws = (await import(LOCAL_AWS)) as LocalAws;
  const dir = mkdtempSync(join(tmpdir(), 'baton-deployed-kit-'));
  const blobDir = join(dir, 'blobs');
  const notices = await listen((n) => void notifier(n));
  const { stages, gate } = writeHandlers(dir);
  const environment = { BATON_BLOB_DIR: blobDir, NOTICES_URL: `http://127.0.0.1:${(notices.address() as AddressInfo).port}` };
  const lambda = await localAws.startLocalLambda({
    functions: [
      { name: 'baton-stages', entry: stages, environment, timeoutSeconds: 30 },
      { name: 'baton-review-gate', entry: gate, environment, timeoutSeconds: 30 },
    ],
    concurrency: 6,
  });
  const sfn = await localAws.startLocalStepFunctions({ endpoints: { lambda: lambda.url }, timeScale: 0.01, ...(options.now ? { now: options.now } : {}) });
  const client = new SFNClient({ endpoint: sfn.url, region: 'us-east-1', credentials: { accessKeyId: 'AKIDKIT', secretAccessKey: 'x' } });
  const definitionOf = (p: AnyPipeline): string =>
    JSON.stringify(compileToAsl(p, { functionArn: () => lambda.arnOf('baton-stages'), reviewFunctionArn: lambda.arnOf('baton-review-gate') }).definition);
  const stateMachines: Record<string, string> = {};
  const machines: Record<string, string> = {};
  for (const p of pipelines) {
    const publish = options.versions === true;
    const out = await client.send(
      new CreateStateMachineCommand({ name: p.name, definition: definitionOf(p), roleArn: 'arn:aws:iam::000000000000:role/baton-kit', publish }),
    );
    stateMachines[p.name] = machines[p.name] = out.stateMachineArn!;
    if (publish) {
      const alias = await client.send(
        new CreateStateMachineAliasCommand({
          name: `v${p.ir.version}`,
          routingConfiguration: [{ stateMachineVersionArn: out.stateMachineVersionArn!, weight: 100 }],
        }),
      );
      stateMachines[p.name] = alias.stateMachineAliasArn!;
    }
  }
  const blobs = createFsBlobStore({ root: blobDir });
  const engines: Engine[] = [];
  const engineFor = (on: Record<string, string>, held: AnyPipeline[]): Engine => {
    const made = createStepFunctionsEngine({ client, stateMachines: on, pipelines: held, blobs, reviews: createBlobReviewStore(blobs), pollIntervalMs: 25 });
    engines.push(made);
    return made;
  };
  const engine = engineFor(stateMachines, pipelines);
  return {
    engine,
    client,
    stateMachines,
    machines,
    definitionOf,
    engineFor,
    async close() {
      for (const e of engines) await e.close();
      client.destroy();
      await sfn.close();
      await lambda.close();
      await new Promise((r) => notices.close(r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
