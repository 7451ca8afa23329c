import { openPostgresRegistry } from '../registry/open.js';
import { CliError } from '../errors.js';
import type { EngineFactory } from './context.js';
import { commonOptions } from './context.js';
import { readDeployment } from './deployment.js';

/**
 * The pipelines' compiled ASL on aws-local-stepfunctions, stage handlers bound in-process. It
 * keeps executions in memory: a run lives as long as the CLI process (use `--auto-approve` or the
 * terminal prompt at review gates; `baton resume` cannot continue it).
 */
export const stepfunctionsLocalEngineFactory: EngineFactory = async (ctx) => {
  const { createStepFunctionsLocalEngine } = await import('@baton/adapter-stepfunctions');
  return createStepFunctionsLocalEngine({
    pipelines: ctx.pipelines,
    blobs: ctx.blobs,
    model: ctx.model,
    enforcePayloadLimit: true,
    ...commonOptions(ctx),
  });
};

/**
 * A deployed app on AWS Step Functions (`createStepFunctionsEngine`): the state machine from
 * `--state-machine-arn` or `--cdk-outputs`, region, credentials and endpoint from the AWS SDK's
 * environment (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL_SFN...), pending reviews from the run
 * registry's PostgreSQL (`--database-url` / DATABASE_URL), where the deployed review gate writes
 * them. The stages run in the deployment's Lambdas, never in this process.
 */
export const stepfunctionsEngineFactory: EngineFactory = async (ctx) => {
  const deployment = readDeployment(ctx.connection, ctx.pipelines);
  if (!ctx.databaseUrl) {
    throw new CliError(
      "--engine stepfunctions needs the run registry's PostgreSQL, where the deployed review gate records pending reviews: pass --database-url postgres://user:password@host:5432/db or set DATABASE_URL (the database behind the app's database secret)",
    );
  }
  const { createStepFunctionsEngine } = await import('@baton/adapter-stepfunctions');
  const { createRegistryReviewStore } = await import('@baton/registry');
  const registry = await openPostgresRegistry(ctx.databaseUrl);
  const pipelines = ctx.pipelines.filter((p) => p.name in deployment.stateMachines);
  const engine = createStepFunctionsEngine({
    stateMachines: deployment.stateMachines,
    pipelines,
    reviews: createRegistryReviewStore(registry),
    // result() reads the output's claim-check references where the deployed stages wrote them
    ...(deployment.blobBucket ? { blobs: ctx.blobs } : {}),
    ...(ctx.observer ? { observer: ctx.observer } : {}),
    ...(ctx.logger ? { logger: ctx.logger } : {}),
  });
  return {
    ...engine,
    async close() {
      try {
        await engine.close();
      } finally {
        await registry.close();
      }
    },
  };
};
