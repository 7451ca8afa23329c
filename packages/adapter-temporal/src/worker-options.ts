/**
 * How fast another worker takes over the runs of a worker that died, and how long a stopping
 * worker gives its activities: the defaults of {@link createTemporalWorker}'s
 * `stickyQueueScheduleToStartTimeout` and `shutdownGraceTime`.
 *
 * A workflow's tasks go to the sticky queue of the worker that last ran it (its cache). When that
 * worker is gone (SIGKILL), the server waits the sticky schedule-to-start timeout before giving the
 * task to the shared task queue: Temporal's default of 10 s stalled a run, and an `approve`, that
 * long. 1 s bounds the takeover of a dead worker's workflow to about a second and a half; a live
 * worker starts a sticky task in milliseconds, so nothing waits on it in normal operation.
 * The grace time lets running activities finish on SIGINT/SIGTERM; activities still running then
 * are cancelled and retried elsewhere as the same attempt, and the worker exits within 5 s.
 *
 * @example
 * ```ts
 * const worker = await createTemporalWorker({ pipelines, taskQueue, ...TAKEOVER_DEFAULTS, shutdownGraceTime: '10s' });
 * ```
 */
export const TAKEOVER_DEFAULTS = {
  /** @default '1s' */
  stickyQueueScheduleToStartTimeout: '1s',
  /** @default '3s' */
  shutdownGraceTime: '3s',
} as const;
