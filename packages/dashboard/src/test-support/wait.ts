import type { Engine, ReviewNotice } from '@baton/core';
import type { RegistryObserver, RunRegistry } from '@baton/registry';

/** Waits until the registry shows the run in `status` (flushing the observer first), at most 20 s. */
export async function waitForStatus(registry: RunRegistry, observer: RegistryObserver, runId: string, status: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    await observer.flush();
    if ((await registry.getRun(runId))?.status === status) return;
    if (Date.now() > deadline) throw new Error(`run ${runId} never became ${status}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Starts a run and waits until the registry shows it waiting at its gate; returns the review notice the engine delivered. */
export async function startWaiting(
  engine: Engine,
  pipeline: string,
  input: unknown,
  notices: readonly ReviewNotice[],
  waitFor: (runId: string, status: string) => Promise<void>,
): Promise<ReviewNotice> {
  const { runId } = await engine.start(pipeline, input);
  await waitFor(runId, 'waiting');
  const notice = notices.find((n) => n.runId === runId);
  if (!notice) throw new Error('no review notice delivered');
  return notice;
}
