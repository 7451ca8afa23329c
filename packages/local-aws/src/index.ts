export { isAllowed, type PolicyStatement } from './iam/evaluate.js';
