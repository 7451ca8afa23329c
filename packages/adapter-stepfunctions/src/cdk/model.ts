import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { AnyStage } from '@baton/core';
import type { Construct } from 'constructs';

/**
 * The model a stage's function calls. One of:
 * - a Bedrock foundation model by id (`anthropic.claude-3-5-haiku-20241022-v1:0`), in the stack's
 *   region unless `region` says otherwise, or by ARN (provisioned throughput, imported model);
 * - a Bedrock inference profile (`us.anthropic.claude-3-5-haiku-20241022-v1:0`, or an application
 *   profile ARN) with the foundation model it routes to and the regions it may route to (IAM must
 *   allow the model in each of them);
 * - an OpenAI-compatible endpoint, its API key in Secrets Manager.
 */
export type ModelConfig =
  | { provider: 'bedrock'; modelId: string; region?: string }
  | { provider: 'bedrock'; inferenceProfile: string; foundationModelId: string; regions: string[] }
  | { provider: 'openai-compatible'; baseUrl: string; model: string; apiKeySecret: secretsmanager.ISecret };

/** The model of each stage that calls one (`usesModel`); throws naming the stage when one has none. */
export function modelsOfStages(stages: AnyStage[], model: ModelConfig | undefined, models: Record<string, ModelConfig> = {}): Map<string, ModelConfig> {
  const out = new Map<string, ModelConfig>();
  for (const name of Object.keys(models)) {
    if (!stages.some((s) => s.name === name))
      throw new Error(`models.${name}: the pipeline has no stage "${name}" (stages: ${stages.map((s) => s.name).join(', ')})`);
  }
  for (const stage of stages) {
    if (!stage.usesModel) continue;
    const config = models[stage.name] ?? model;
    if (!config) {
      throw new Error(
        `stage "${stage.name}" calls a model (usesModel) but BatonStateMachine has no model for it: set props.model ({ provider: 'bedrock', modelId: '…' }) or props.models["${stage.name}"] (in a generated app: -c model=bedrock:<modelId>)`,
      );
    }
    out.set(stage.name, config);
  }
  return out;
}

/** The environment a stage function reads its model from (see `createModelFromEnv` in `@baton/stages`). */
export function modelEnvironment(config: ModelConfig): Record<string, string> {
  if (config.provider === 'openai-compatible') {
    return {
      BATON_MODEL_PROVIDER: 'openai-compatible',
      BATON_MODEL_ID: config.model,
      BATON_OPENAI_BASE_URL: config.baseUrl,
      BATON_OPENAI_KEY_SECRET_ARN: config.apiKeySecret.secretArn,
    };
  }
  return { BATON_MODEL_PROVIDER: 'bedrock', BATON_MODEL_ID: 'inferenceProfile' in config ? config.inferenceProfile : config.modelId };
}

/**
 * What a stage function needs to call its model, nothing wider: `bedrock:InvokeModel` and
 * `bedrock:InvokeModelWithResponseStream` (what Converse and ConverseStream are authorised as)
 * on the configured model, or on the inference profile and its foundation model in each region
 * it routes to; for an OpenAI-compatible endpoint, reading its key's secret.
 */
export function grantModel(scope: Construct, grantee: iam.IGrantable, config: ModelConfig): void {
  if (config.provider === 'openai-compatible') {
    config.apiKeySecret.grantRead(grantee);
    return;
  }
  grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...BEDROCK_INVOKE], resources: bedrockResources(scope, config) }));
}

/** The actions Converse (InvokeModel) and ConverseStream (InvokeModelWithResponseStream) are authorised as. */
export const BEDROCK_INVOKE = ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'] as const;

/** The ARNs a Bedrock model configuration is invoked on. */
export function bedrockResources(scope: Construct, config: Extract<ModelConfig, { provider: 'bedrock' }>): string[] {
  const stack = Stack.of(scope);
  const model = (id: string, region: string): string => (id.startsWith('arn:') ? id : `arn:${stack.partition}:bedrock:${region}::foundation-model/${id}`);
  if (!('inferenceProfile' in config)) return [model(config.modelId, config.region ?? stack.region)];
  if (config.regions.length === 0) throw new Error(`inference profile "${config.inferenceProfile}": list the regions it routes to (regions: ['us-east-1', …])`);
  const profile = config.inferenceProfile.startsWith('arn:')
    ? config.inferenceProfile
    : `arn:${stack.partition}:bedrock:${stack.region}:${stack.account}:inference-profile/${config.inferenceProfile}`;
  return [profile, ...config.regions.map((r) => model(config.foundationModelId, r))];
}
