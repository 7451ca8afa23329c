export { rehearse, awsEnvironment, type RehearseOptions, type Rehearsal, type RehearsedResource, type QueueMessage } from './rehearse.js';
export type { IamDenial } from './principals.js';
export type { EventDelivery } from './events.js';
export { formatDenials, formatRehearsalReport } from './report.js';
