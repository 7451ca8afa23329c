import { type AnyPipeline, type BlobStore, type Engine, type RunObserver } from '@baton/core';
import { createFileJournalStore, foldJournal, resolveRefs } from '@baton/core/engine';
import { join } from 'node:path';
import { openContext, type GlobalOptions } from './context.js';
import { engineFactory } from './engines.js';
import { createProgress, type ProgressDisplay } from './progress.js';
import { createCliReviewer, type CliReviewer, type ReviewMode } from './review.js';

export type { GlobalOptions } from './context.js';

/** An engine wired to the CLI's progress display, review seam and blob store. */
export interface Session {
  engine: Engine;
  blobs: BlobStore;
  pipelines: AnyPipeline[];
  progress: ProgressDisplay;
  reviewer: CliReviewer;
  stateDir: string;
  /** Closes the engine, then waits for the run registry writes. */
  close(): Promise<void>;
}

/** Opens a session: loads pipelines, builds the model, the blob store and the engine. */
export async function openSession(opts: GlobalOptions, reviewMode: ReviewMode, tty = Boolean(process.stderr.isTTY)): Promise<Session> {
  const { stateDir, pipelines, blobs, model, logger, recorder, prices } = await openContext(opts);
  const progress = createProgress({ tty });
  const reviewer = createCliReviewer(reviewMode, { log: (l) => progress.log(l), pause: () => progress.stop() });
  const observer: RunObserver = (e) => {
    try {
      void recorder.observer(e);
    } catch (err) {
      logger.error('run registry write failed', { runId: e.runId, error: (err as Error).message });
    }
    if (opts.engine === 'local' && e.type === 'step-finished' && e.stepPath === 'plan' && e.status === 'succeeded')
      void labelSections(stateDir, blobs, e.runId, progress);
    return progress.observer(e);
  };
  let engine: Engine;
  try {
    engine = await engineFactory(opts.engine)({
      pipelines,
      stateDir,
      blobs,
      model,
      ...(prices ? { prices } : {}),
      observer,
      notifier: reviewer.notifier,
      logger,
      ...(opts.emulate ? { emulate: opts.emulate } : {}),
      ...(opts.connection ? { connection: opts.connection } : {}),
      ...(databaseUrlOf(opts) ? { databaseUrl: databaseUrlOf(opts)! } : {}),
      onRecovering: ({ runId, stepPaths }) =>
        progress.log(`recovering ${stepPaths.length} step${stepPaths.length === 1 ? '' : 's'} from a stopped worker (run ${runId}: ${stepPaths.join(', ')})`),
    });
  } catch (e) {
    await recorder.close();
    throw e;
  }
  reviewer.bind(engine);
  const close = async (): Promise<void> => {
    try {
      await engine.close();
    } finally {
      await recorder.close();
    }
  };
  return { engine, blobs, pipelines, progress, reviewer, stateDir, close };
}

/** Names the section bars after the plan's section ids (local engine: read from its journal). */
async function labelSections(stateDir: string, blobs: BlobStore, runId: string, progress: ProgressDisplay): Promise<void> {
  try {
    const state = foldJournal(createFileJournalStore(join(stateDir, 'journal')).read(runId));
    const plan = (await resolveRefs(state.completed.get('plan')?.output, blobs)) as { sections?: { sectionId?: unknown }[] } | undefined;
    const ids = plan?.sections?.map((s) => String(s.sectionId ?? ''));
    if (ids?.length) progress.setItemLabels('sections', ids);
  } catch {
    // Labels are cosmetic: indexes stay.
  }
}

/** The Postgres run registry of the options or the environment, if any. */
export function databaseUrlOf(opts: GlobalOptions): string | undefined {
  return opts.databaseUrl ?? process.env.DATABASE_URL;
}
