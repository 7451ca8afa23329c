import { CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { createFsBlobStore, type AnyPipeline, type Engine, type ReviewNotice, type ReviewNotifier } from '@baton/core';
import { conformancePipelines, createProbeDir, readProbe, runConformance, setProbeFlag, startCounts } from '@baton/core/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compileToAsl } from '../compile/compile.js';
import { createBlobReviewStore } from '../lambda/blob-reviews.js';
import { createStepFunctionsEngine } from './engine.js';

/**
 * The conformance kit against createStepFunctionsEngine on @baton/local-aws's endpoints: the
 * real Step Functions API (awsJson1.0) executing the compiled machines, their Tasks invoking the
 * Lambda Invoke API, each function a node process running this package's built handlers
 * (createStageHandler, createReviewGateHandler). Nothing in process but the engine: runs are
 * started, read, decided and redriven through @aws-sdk/client-sfn only.
 *
 * @baton/local-aws depends on this package, so it is loaded from its build by name (not a
 * declared dependency: a cycle); `turbo run build` builds it (CI builds everything first).
 */
const LOCAL_AWS = '@baton/local-aws';
const ROOT = join(import.meta.dirname, '../../../..');
const BUILT = ['packages/local-aws/dist/index.js', 'packages/adapter-stepfunctions/dist/index.js', 'packages/core/dist/testkit/stages.js'];
const missing = BUILT.filter((p) => !existsSync(join(ROOT, p)));
if (missing.length) throw new Error(`this suite runs built code: ${missing.join(', ')} missing; run npx turbo run build --filter=@baton/local-aws...`);

interface LocalAws {
  startLocalLambda(options: {
    functions: { name: string; entry: string; environment: Record<string, string>; timeoutSeconds?: number }[];
    concurrency?: number;
  }): Promise<{ url: string; arnOf(name: string): string; close(): Promise<void> }>;
  startLocalStepFunctions(options: { endpoints: { lambda: string }; timeScale?: number }): Promise<{ url: string; close(): Promise<void> }>;
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
    [...common, `import { conformanceStages } from '${url('packages/core/dist/testkit/stages.js')}';`, 'export const handler = createStageHandler({ stages: conformanceStages, blobs });'].join('\n'),
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

/**
 * Deploys pipelines on fresh local endpoints: every kit stage in one function, the review gate in
 * another, a state machine per pipeline (compiled as BatonStateMachine compiles it, minus the
 * dead-letter queue); the engine on the SFN API, the review store on the shared blob directory.
 */
async function deploy(pipelines: AnyPipeline[], notifier: ReviewNotifier): Promise<{ engine: Engine; close(): Promise<void> }> {
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
  const sfn = await localAws.startLocalStepFunctions({ endpoints: { lambda: lambda.url }, timeScale: 0.01 });
  const client = new SFNClient({ endpoint: sfn.url, region: 'us-east-1', credentials: { accessKeyId: 'AKIDKIT', secretAccessKey: 'x' } });
  const stateMachines: Record<string, string> = {};
  for (const p of pipelines) {
    const { definition } = compileToAsl(p, { functionArn: () => lambda.arnOf('baton-stages'), reviewFunctionArn: lambda.arnOf('baton-review-gate') });
    const out = await client.send(new CreateStateMachineCommand({ name: p.name, definition: JSON.stringify(definition), roleArn: 'arn:aws:iam::000000000000:role/baton-kit' }));
    stateMachines[p.name] = out.stateMachineArn!;
  }
  const blobs = createFsBlobStore({ root: blobDir });
  const engine = createStepFunctionsEngine({ client, stateMachines, pipelines, blobs, reviews: createBlobReviewStore(blobs), pollIntervalMs: 25 });
  return {
    engine,
    async close() {
      await engine.close();
      client.destroy();
      await sfn.close();
      await lambda.close();
      await new Promise((r) => notices.close(r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

runConformance({
  name: 'stepfunctions (createStepFunctionsEngine on the local Step Functions and Lambda endpoints)',
  capabilities: {
    // the service holds the executions: there is no worker of ours to crash
    crashResume: false,
    // the service draws each retry's jittered delay; the engine reports the delay it measured in the history and the
    // compiled retrier's bound in ASL's whole seconds, not the kit policy's milliseconds
    retryDelays: false,
    // RedriveExecution re-runs the failed AND the aborted iterations of an inline Map (AWS's rule): an item in flight
    // when the map failed runs again, which the kit's scenario forbids; the next describe checks AWS's rule instead
    redrive: false,
    // the deployment's functions and status-change rule record run events, not this engine's observer
    runEvents: false,
    // one deployment per kit: redeploying the stack with another pipeline version is the CDK's job (issue 17: the
    // construct's qualified Lambda versions are checked in construct.test.ts), not this harness's
    versions: false,
  },
  timeoutMs: 90_000,
  setup: ({ pipelines, notifier }) => deploy(pipelines, notifier),
});

describe('redrive of a deployed run (RedriveExecution on the local endpoint)', () => {
  let deployment: Awaited<ReturnType<typeof deploy>>;
  beforeAll(async () => {
    deployment = await deploy(conformancePipelines.filter((p) => p.name === 'kit-map-strict'), () => undefined);
  }, 120_000);
  afterAll(() => deployment?.close(), 60_000);

  it('re-runs the failed and aborted map iterations only: not the steps before the map, not the iterations that succeeded', { timeout: 90_000 }, async () => {
    const { engine } = deployment;
    const probe = createProbeDir();
    const items = [1, 2, 3, 4, 5];
    const { runId } = await engine.start('kit-map-strict', { probe, items, delayMs: 0, failIndexes: [1, 3] });
    expect(await engine.result(runId, { timeoutMs: 60_000 })).toMatchObject({ status: 'failed', error: { code: 'ItemBroken' } });
    const failed = await engine.status(runId);
    const done = new Set(failed.attempts.filter((a) => a.status === 'succeeded').map((a) => a.stepPath));
    expect(done.has('before')).toBe(true);
    const broken = failed.attempts.filter((a) => a.error?.code === 'ItemBroken').map((a) => a.stepPath);
    expect(broken.length).toBeGreaterThan(0);
    expect(broken.every((p) => p === 'items[1]/item' || p === 'items[3]/item')).toBe(true);
    const startsBefore = startCounts(readProbe(probe));
    setProbeFlag(probe, 'fixed');
    await engine.redrive(runId);
    const out = await engine.result(runId, { timeoutMs: 60_000 });
    expect(out.status).toBe('succeeded');
    if (out.status === 'succeeded') expect((out.output as { results: { status: string }[] }).results.map((r) => r.status)).toEqual(items.map(() => 'succeeded'));
    const startsAfter = startCounts(readProbe(probe));
    expect(startsAfter.get('before')).toBe(1);
    for (const [i] of items.entries()) {
      const key = `item-${i}`;
      // an iteration that succeeded keeps its result; one that failed, was cut short or never started runs again
      // (a count, not an exact one: the local endpoint may still invoke an iteration's Lambda after the map failed)
      if (done.has(`items[${i}]/item`)) expect(startsAfter.get(key), key).toBe(startsBefore.get(key));
      else expect(startsAfter.get(key) ?? 0, key).toBeGreaterThan(0);
    }
    const after = await engine.status(runId);
    expect(after).toMatchObject({ status: 'succeeded', currentSteps: [] });
    expect(after.attempts.filter((a) => a.status === 'running')).toEqual([]);
    for (const p of broken) expect(after.attempts.filter((a) => a.stepPath === p).map((a) => a.status)).toEqual(['failed', 'succeeded']);
    await expect(engine.redrive(runId)).rejects.toThrow(/has not failed/);
  });
});
