export { isAllowed, type PolicyStatement } from './iam/evaluate.js';
export { startLocalLambda, type LocalFunction, type LocalLambda, type LocalLambdaOptions } from './lambda/server.js';
export { startLocalStepFunctions, type LocalStepFunctions, type LocalStepFunctionsOptions } from './sfn/server.js';
export type { ServiceEndpoints } from './sfn/integrations.js';
