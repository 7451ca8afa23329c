import { RemovalPolicy, type Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { ModelBudgets, PriceTable } from '@baton/core';
import { validateBudgets, validatePrices } from '@baton/core/engine';
import type { Construct } from 'constructs';
import type { ModelConfig } from './model.js';

/** The DynamoDB actions the shared model limiter (`createDynamoModelLimiter` of `@baton/aws-runtime`) sends, on its table only. */
export const MODEL_BUDGET_ACTIONS = ['dynamodb:GetItem', 'dynamodb:UpdateItem'] as const;

/** The default of `modelBudgetWait`: Lambda time a model stage may spend waiting for budget, beyond its stage's timeout. */
export const DEFAULT_MODEL_BUDGET_WAIT_SECONDS = 300;

/** The model limiter's table and what a model stage's function needs to use it. */
export interface ModelBudgetTable {
  table: dynamodb.Table;
  /** `BATON_MODEL_BUDGETS_TABLE` and `BATON_MODEL_BUDGETS` (read by `createStageLambda`). */
  environment: Record<string, string>;
}

/**
 * Creates the table of the shared model limiter: key `pk` (string), on demand, TTL on `expiresAt`
 * (a model unused for a while leaves it). Its items are counters, not records: removed with the
 * stack. Budgets are checked here (positive figures, each for a model some stage uses), so a typo
 * fails synthesis rather than leaving a model unlimited.
 */
export function modelBudgetTable(scope: Construct, budgets: ModelBudgets, models: ReadonlyMap<string, ModelConfig>): ModelBudgetTable {
  validateBudgets(budgets);
  const ids = new Set([...models.values()].map(modelIdOf));
  for (const id of Object.keys(budgets)) {
    if (!ids.has(id)) throw new Error(`modelBudgets["${id}"]: no stage calls that model (the stages' model ids: ${[...ids].join(', ') || 'none'})`);
  }
  const table = new dynamodb.Table(scope, 'ModelBudgets', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    timeToLiveAttribute: 'expiresAt',
    removalPolicy: RemovalPolicy.DESTROY,
  });
  return { table, environment: { BATON_MODEL_BUDGETS_TABLE: table.tableName, BATON_MODEL_BUDGETS: JSON.stringify(budgets) } };
}

/** What the limiter does with its table, nothing wider: {@link MODEL_BUDGET_ACTIONS} on the table's ARN. */
export function grantModelBudgets(fn: lambda.IFunction, table: dynamodb.ITable): void {
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: [...MODEL_BUDGET_ACTIONS], resources: [table.tableArn] }));
}

/** A model stage's Lambda timeout: the stage's own plus the time it may wait for budget, within Lambda's 15 minutes. */
export function timeoutWithBudgetWait(stageSeconds: number, wait: Duration | undefined): number {
  const extra = wait ? wait.toSeconds() : DEFAULT_MODEL_BUDGET_WAIT_SECONDS;
  return stageSeconds + Math.max(0, Math.min(extra, 900 - stageSeconds));
}

/** The model id a function's model client reports (`ModelClient.modelId`): what budgets are keyed by. */
export function modelIdOf(config: ModelConfig): string {
  if (config.provider === 'openai-compatible') return config.model;
  return 'inferenceProfile' in config ? config.inferenceProfile : config.modelId;
}

/**
 * `BATON_MODEL_PRICES` of a model stage's function, checked at synthesis: prices finite and not
 * negative, one for the model the stage calls (a typo fails `cdk synth`, not a run).
 */
export function modelPricesEnvironment(prices: PriceTable, stage: string, model: ModelConfig): Record<string, string> {
  try {
    validatePrices(prices, modelIdOf(model));
  } catch (e) {
    throw new Error(`modelPrices (stage "${stage}"): ${(e as Error).message}`);
  }
  return { BATON_MODEL_PRICES: JSON.stringify(prices) };
}
