export { rehearse, awsEnvironment, type RehearseOptions, type Rehearsal, type RehearsedResource } from './rehearse.js';
export type { IamDenial } from './principals.js';
export type { EventDelivery } from './events.js';
export { formatRehearsalReport } from './report.js';
