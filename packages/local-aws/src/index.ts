export { isAllowed, type PolicyStatement } from './iam/evaluate.js';
export { startLocalLambda, type LocalFunction, type LocalLambda, type LocalLambdaOptions } from './lambda/server.js';
