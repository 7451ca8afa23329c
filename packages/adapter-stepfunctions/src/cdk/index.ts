export { BatonStateMachine, type BatonStateMachineProps } from './construct.js';
export { ALARM_FAILURE_CLASSES, BatonAlarms, METRIC_NAMESPACE, type AlarmFailureClass, type AlarmTopicName, type BatonAlarmsProps } from './alarms.js';
export { BEDROCK_INVOKE, bedrockResources, type ModelConfig } from './model.js';
export { DEFAULT_MODEL_BUDGET_WAIT_SECONDS, MODEL_BUDGET_ACTIONS } from './model-budgets.js';
export { DEFAULT_MODEL_RETRY } from '../compile/deployed.js';
export { cfnLint, type CfnLintFinding } from './cfn-lint.js';
export type { ReviewNotifierConfig } from './notifier.js';
export { deploymentFromContext, modelFromSpec } from './context.js';
