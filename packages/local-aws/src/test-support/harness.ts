import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
  type DescribeExecutionCommandOutput,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { compileToAsl, type CompileOptions, type ExecutionStatusChangeEvent } from '@baton/adapter-stepfunctions';
import type { AnyPipeline } from '@baton/core';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startLocalLambda, type LocalFunction, type LocalLambda } from '../lambda/server.js';
import type { ServiceEndpoints } from '../sfn/integrations.js';
import { startLocalStepFunctions, type LocalStepFunctions } from '../sfn/server.js';

/** The local endpoints with the conformance stages deployed as functions, and helpers to run compiled pipelines through the SDK. */
export interface Harness {
  lambda: LocalLambda;
  sfn: LocalStepFunctions;
  client: SFNClient;
  /** Status-change events delivered so far. */
  events: ExecutionStatusChangeEvent[];
  dir: string;
  /** Compiles and creates the state machine of a pipeline; returns its ARN. */
  deploy(pipeline: AnyPipeline, options?: CompileOptions): Promise<string>;
  start(stateMachineArn: string, input: unknown, name?: string): Promise<string>;
  /** Polls DescribeExecution until the execution is no longer RUNNING. */
  settled(executionArn: string): Promise<DescribeExecutionCommandOutput>;
  /** The whole history, page after page. */
  history(executionArn: string): Promise<HistoryEvent[]>;
  /** Polls the history until `found` finds something. */
  waitForEvent<T>(executionArn: string, found: (events: HistoryEvent[]) => T | undefined): Promise<T>;
  close(): Promise<void>;
}

const STAGES = ['kit-step', 'kit-flaky', 'kit-handler', 'kit-item'];
export const ROLE_ARN = 'arn:aws:iam::000000000000:role/baton-state-machine';

/** Starts the local Lambda (stage functions from the kit, a review gate) and Step Functions endpoints. */
export async function startHarness(options: { endpoints?: Partial<ServiceEndpoints>; functions?: LocalFunction[]; timeScale?: number } = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'local-sfn-'));
  const require = createRequire(import.meta.url);
  const adapter = pathToFileURL(require.resolve('@baton/adapter-stepfunctions')).href;
  const coreDist = dirname(require.resolve('@baton/core'));
  const stages = join(dir, 'stages.mjs');
  writeFileSync(
    stages,
    [
      `import { createStageHandler } from '${adapter}';`,
      `import { createMemoryBlobStore } from '${pathToFileURL(join(coreDist, 'index.js')).href}';`,
      `import { conformanceStages } from '${pathToFileURL(join(coreDist, 'testkit', 'stages.js')).href}';`,
      'export const handler = createStageHandler({ stages: conformanceStages, blobs: createMemoryBlobStore() });',
    ].join('\n'),
  );
  const gate = join(dir, 'gate.mjs');
  writeFileSync(gate, 'export const handler = async (event) => ({ opened: event.gate, stepPath: event.stepPath });\n');
  const lambda = await startLocalLambda({
    functions: [
      ...STAGES.map((s) => ({ name: `baton-${s}`, entry: stages, environment: { BATON_STAGE: s }, timeoutSeconds: 30 })),
      { name: 'baton-review-gate', entry: gate, environment: {} },
      ...(options.functions ?? []),
    ],
  });
  const events: ExecutionStatusChangeEvent[] = [];
  const sfn = await startLocalStepFunctions({
    endpoints: { lambda: lambda.url, ...options.endpoints },
    timeScale: options.timeScale ?? 0.01,
    onStatusChange: (e) => void events.push(e),
  });
  const client = new SFNClient({ endpoint: sfn.url, region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'x' } });
  const settled = async (executionArn: string): Promise<DescribeExecutionCommandOutput> => {
    for (const deadline = Date.now() + 20_000; ;) {
      const d = await client.send(new DescribeExecutionCommand({ executionArn }));
      if (d.status !== 'RUNNING') return d;
      if (Date.now() > deadline) throw new Error(`${executionArn} still RUNNING after 20 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const history = async (executionArn: string): Promise<HistoryEvent[]> => {
    const all: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await client.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 50, ...(nextToken ? { nextToken } : {}) }));
      all.push(...(page.events ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return all;
  };
  return {
    lambda,
    sfn,
    client,
    events,
    dir,
    async deploy(pipeline, compile = {}) {
      const { definition } = compileToAsl(pipeline, {
        functionArn: (s) => lambda.arnOf(`baton-${s}`),
        reviewFunctionArn: lambda.arnOf('baton-review-gate'),
        ...compile,
      });
      const out = await client.send(new CreateStateMachineCommand({ name: pipeline.name, definition: JSON.stringify(definition), roleArn: ROLE_ARN }));
      return out.stateMachineArn!;
    },
    async start(stateMachineArn, input, name) {
      const out = await client.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input), ...(name ? { name } : {}) }));
      return out.executionArn!;
    },
    settled,
    history,
    async waitForEvent(executionArn, found) {
      for (const deadline = Date.now() + 20_000; ;) {
        const hit = found(await history(executionArn));
        if (hit !== undefined) return hit;
        if (Date.now() > deadline) throw new Error(`event not found in the history of ${executionArn} within 20 s`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      await sfn.close();
      await lambda.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
