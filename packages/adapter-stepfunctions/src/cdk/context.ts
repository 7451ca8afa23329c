import { Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ModelBudgets, PriceTable } from '@baton/core';
import type { Construct } from 'constructs';
import type { BatonStateMachineProps } from './construct.js';
import type { ModelConfig } from './model.js';
import type { ReviewNotifierConfig } from './notifier.js';

/**
 * Reads a model from its one-line form, as `baton compile --model` and `cdk deploy -c model=…` take it:
 * - `bedrock:<modelId>` (a foundation model id or ARN, in the stack's region);
 * - `bedrock-profile:<profileId>#<foundationModelId>#<region>,<region>…` (an inference profile);
 * - `openai:<baseUrl>#<model>#<secretArn>` (OpenAI-compatible, API key in Secrets Manager).
 *
 * @example
 * ```ts
 * modelFromSpec(stack, 'bedrock:anthropic.claude-3-5-haiku-20241022-v1:0');
 * ```
 */
export function modelFromSpec(scope: Construct, spec: string): ModelConfig {
  const [kind, ...rest] = spec.split(':');
  const body = rest.join(':');
  const parts = body.split('#');
  if (kind === 'bedrock' && body) return { provider: 'bedrock', modelId: body };
  if (kind === 'bedrock-profile' && parts.length === 3 && parts.every(Boolean)) {
    return { provider: 'bedrock', inferenceProfile: parts[0]!, foundationModelId: parts[1]!, regions: parts[2]!.split(',').filter(Boolean) };
  }
  if (kind === 'openai' && parts.length === 3 && parts.every(Boolean)) {
    return { provider: 'openai-compatible', baseUrl: parts[0]!, model: parts[1]!, apiKeySecret: secretOf(scope, 'ModelApiKey', parts[2]!) };
  }
  throw new Error(
    `model "${spec}": use bedrock:<modelId>, bedrock-profile:<profileId>#<foundationModelId>#<regions> or openai:<baseUrl>#<model>#<apiKeySecretArn>`,
  );
}

/**
 * The deployment settings of a generated app, from CDK context (`cdk.json` or `cdk deploy -c k=v`):
 * `model` (see {@link modelFromSpec}), `databaseSecretArn` (the registry's PostgreSQL secret),
 * `dashboardUrl`, `reviewNotifier` (`sns`, `eventbridge[:<bus>]` or `webhook:<url>[#<secretArn>]`),
 * `modelBudgets` (JSON of budgets by model id, see `BatonStateMachineProps.modelBudgets`),
 * `modelPrices` (JSON of token prices by model id, see `BatonStateMachineProps.modelPrices`)
 * (alarm and review topics are stack outputs: subscribe to them). A missing required value throws
 * naming the `-c` flag to pass.
 *
 * @example
 * ```ts
 * new BatonStateMachine(stack, 'Pipeline', { pipeline, stageEntry, ...deploymentFromContext(stack) });
 * ```
 */
export function deploymentFromContext(
  scope: Construct,
): Pick<BatonStateMachineProps, 'model' | 'registry' | 'dashboardUrl' | 'reviewNotifier' | 'modelBudgets' | 'modelPrices'> {
  const node = Stack.of(scope).node;
  const get = (key: string): string | undefined => {
    const v = node.tryGetContext(key) as unknown;
    return typeof v === 'string' && v.trim() ? v.trim() : undefined;
  };
  const out: Pick<BatonStateMachineProps, 'model' | 'registry' | 'dashboardUrl' | 'reviewNotifier' | 'modelBudgets' | 'modelPrices'> = {};
  const model = get('model');
  if (model) out.model = modelFromSpec(scope, model);
  const db = get('databaseSecretArn');
  if (db) out.registry = { databaseSecret: secretOf(scope, 'RegistryDatabase', db) };
  const dashboard = get('dashboardUrl');
  if (dashboard) out.dashboardUrl = dashboard;
  const notifier = get('reviewNotifier');
  if (notifier) out.reviewNotifier = notifierFromSpec(scope, notifier);
  const budgets = get('modelBudgets');
  if (budgets) {
    try {
      out.modelBudgets = JSON.parse(budgets) as ModelBudgets;
    } catch (e) {
      throw new Error(
        `modelBudgets: not JSON (${(e as Error).message}); pass -c modelBudgets='{"<model id>":{"requestsPerMinute":400,"tokensPerMinute":400000}}'`,
      );
    }
  }
  const prices = get('modelPrices');
  if (prices) {
    try {
      out.modelPrices = JSON.parse(prices) as PriceTable;
    } catch (e) {
      throw new Error(`modelPrices: not JSON (${(e as Error).message}); pass -c modelPrices='{"<model id>":{"inputPer1M":0.8,"outputPer1M":4}}'`);
    }
  }
  return out;
}

function notifierFromSpec(scope: Construct, spec: string): ReviewNotifierConfig {
  if (spec === 'none') return { kind: 'none' };
  if (spec === 'sns') return { kind: 'sns' };
  if (spec === 'eventbridge') return { kind: 'eventbridge' };
  if (spec.startsWith('eventbridge:'))
    return { kind: 'eventbridge', eventBus: events.EventBus.fromEventBusName(scope, 'ReviewEventBus', spec.slice('eventbridge:'.length)) };
  if (spec.startsWith('webhook:')) {
    const [url, secretArn] = spec.slice('webhook:'.length).split('#');
    if (url) return { kind: 'webhook', url, ...(secretArn ? { secret: secretOf(scope, 'ReviewWebhookSecret', secretArn) } : {}) };
  }
  throw new Error(`reviewNotifier "${spec}": use sns, eventbridge[:<bus name>], webhook:<url>[#<signing secret ARN>] or none`);
}

/** A secret by ARN: complete (with Secrets Manager's 6-character suffix) or partial (IAM then matches any suffix). */
function secretOf(scope: Construct, id: string, arn: string): ISecret {
  return /-[A-Za-z0-9]{6}$/.test(arn) ? Secret.fromSecretCompleteArn(scope, id, arn) : Secret.fromSecretPartialArn(scope, id, arn);
}
