/** Namespace used when none is given. */
export const DEFAULT_NAMESPACE = 'default';
/** Task queue used when none is given. */
export const DEFAULT_TASK_QUEUE = 'baton';

/** `TEMPORAL_ADDRESS` from the environment, or the Temporal CLI's default `localhost:7233`. */
export function defaultAddress(): string {
  return process.env.TEMPORAL_ADDRESS ?? 'localhost:7233';
}
