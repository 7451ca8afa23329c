export { isAllowed, type PolicyStatement } from './iam/evaluate.js';
export { startLocalLambda, type LocalFunction, type LocalLambda, type LocalLambdaOptions } from './lambda/server.js';
export { startLocalStepFunctions, type LocalStepFunctions, type LocalStepFunctionsOptions } from './sfn/server.js';
export type { ServiceEndpoints } from './sfn/integrations.js';
export {
  awsEnvironment,
  formatDenials,
  formatRehearsalReport,
  rehearse,
  type EventDelivery,
  type IamDenial,
  type QueueMessage,
  type Rehearsal,
  type RehearsedResource,
  type RehearseOptions,
} from './rehearse/index.js';
