import { createLocalEngine, definePipeline, defineStage, type LocalEngine, type ReviewNotice } from '@baton/core';
import { createPgliteRegistry, createRegistryObserver, type RegistryObserver, type RunRegistry } from '@baton/registry';
import { z } from 'zod';
import { startWaiting, waitForStatus } from './wait.js';

const draft = defineStage({
  name: 'draft',
  version: 1,
  input: z.object({ title: z.string(), topics: z.array(z.string()) }),
  output: z.object({ sections: z.array(z.object({ heading: z.string(), text: z.string() })) }),
  async run(input) {
    return { sections: input.topics.map((t) => ({ heading: t, text: `What happened with ${t} this quarter.` })) };
  },
});

const polish = defineStage({
  name: 'polish',
  version: 1,
  input: z.object({ heading: z.string(), text: z.string() }),
  output: z.object({ heading: z.string(), text: z.string() }),
  async run(input) {
    return { heading: input.heading, text: input.text.replace(/\s+/g, ' ').trim() };
  },
});

const publish = defineStage({
  name: 'publish',
  version: 1,
  input: z.object({ title: z.string(), sections: z.array(z.object({ heading: z.string(), text: z.string() })) }),
  output: z.object({ published: z.string() }),
  async run(input) {
    return { published: `${input.title}: ${input.sections.length} sections` };
  },
});

/** draft → map(sections)\{ polish \} → approval `editor` (payload: title and sections) → publish. */
export const reviewPipeline = definePipeline({ name: 'quarterly-report', version: 1, input: z.object({ title: z.string(), topics: z.array(z.string()) }) })
  .task('draft', draft, { input: { 'title.$': '$.title', 'topics.$': '$.topics' }, resultPath: '$.draft' })
  .map('sections', { items: '$.draft.sections', maxConcurrency: 2, resultPath: '$.polished' }, (b) => b.task('polish', polish))
  .approval('review', { gate: 'editor', timeoutSeconds: 3600, payload: { 'title.$': '$.title', 'sections.$': '$.polished' }, resultPath: '$.review' })
  .task('publish', publish, { input: { 'title.$': '$.title', 'sections.$': '$.draft.sections' }, resultPath: '$.published' })
  .build();

/** A local engine writing a PGlite registry, with the review notices it delivered. */
export interface Fixture {
  engine: LocalEngine;
  registry: RunRegistry;
  observer: RegistryObserver;
  notices: ReviewNotice[];
  /** Starts a run and waits until the registry shows it waiting at its gate; returns its notice. */
  startWaiting(title: string): Promise<ReviewNotice>;
  /** Waits until the registry shows the run in `status`. */
  waitFor(runId: string, status: string): Promise<void>;
  close(): Promise<void>;
}

/** Creates the {@link Fixture}. */
export async function createFixture(): Promise<Fixture> {
  const registry = await createPgliteRegistry();
  const observer = createRegistryObserver(registry);
  const notices: ReviewNotice[] = [];
  const engine = createLocalEngine({ pipelines: [reviewPipeline], observer, notifier: (n) => void notices.push(n) });
  const waitFor = (runId: string, status: string): Promise<void> => waitForStatus(registry, observer, runId, status);
  return {
    engine,
    registry,
    observer,
    notices,
    waitFor,
    startWaiting: (title) => startWaiting(engine, 'quarterly-report', { title, topics: ['Revenue', 'Risks'] }, notices, waitFor),
    async close() {
      await engine.close();
      await registry.close();
    },
  };
}
