/*
 * The conformance kit's pipelines and stages without vitest. `@baton/core/testkit` also exports
 * the suite, which imports vitest and cannot load in a plain worker process; core exports no
 * vitest-free entry for them, so the worker process loads core's built files by path.
 */
import type { AnyPipeline, AnyStage } from '@baton/core';

const base = new URL('../../../core/dist/testkit/', import.meta.url);
const pipelinesModule = (await import(new URL('pipelines.js', base).href)) as { conformancePipelines: AnyPipeline[] };
const stagesModule = (await import(new URL('stages.js', base).href)) as { conformanceStages: AnyStage[] };

/** Every conformance pipeline. */
export const kitPipelines: AnyPipeline[] = pipelinesModule.conformancePipelines;
/** Every conformance stage. */
export const kitStages: AnyStage[] = stagesModule.conformanceStages;

/** The pipelines of a deploy of kit scenario 36, by its export name in core's `testkit/pipelines-versions.js`. */
export async function kitDeployPipelines(exportName: string): Promise<AnyPipeline[]> {
  const mod = (await import(new URL('pipelines-versions.js', base).href)) as Record<string, AnyPipeline[]>;
  const found = mod[exportName];
  if (!found) throw new Error(`core's testkit/pipelines-versions.js has no export "${exportName}"`);
  return found;
}
