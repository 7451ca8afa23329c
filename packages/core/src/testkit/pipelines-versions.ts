import { z } from 'zod';
import { definePipeline, type AnyPipeline } from '../builder.js';
import { StageError } from '../errors.js';
import { defineStage } from '../stage.js';
import { conformancePipelines } from './pipelines.js';
import { recordProbe } from './probe.js';
import { kitStep } from './stages.js';

const Input = z.looseObject({ probe: z.string() });
const P = { 'probe.$': '$.probe' };
const gate = { gate: 'review', timeoutSeconds: 3600, payload: { 'draft.$': '$.draft' }, resultPath: '$.review' } as const;

/** Version 1 of `kit-versioned`: draft, review gate, publish. */
export const kitVersionedV1 = definePipeline({ name: 'kit-versioned', version: 1, input: Input })
  .task('draft', kitStep, { input: { ...P, value: 1 }, resultPath: '$.draft' })
  .approval('review', gate)
  .task('publish', kitStep, { input: { ...P, 'value.$': '$.draft.value' }, resultPath: '$.published' })
  .build();

/** Version 2 of `kit-versioned`: another shape (a check step before the gate, a release step after). */
export const kitVersionedV2 = definePipeline({ name: 'kit-versioned', version: 2, input: Input })
  .task('draft', kitStep, { input: { ...P, value: 10 }, resultPath: '$.draft' })
  .task('check', kitStep, { input: { ...P, 'value.$': '$.draft.value' }, resultPath: '$.checked' })
  .approval('review', gate)
  .task('release', kitStep, { input: { ...P, 'value.$': '$.checked.value' }, resultPath: '$.released' })
  .build();

/** A stage at `version` that records its start and returns its version (`broken`: fails with `ReleaseBroken`). */
const versioned = (name: string, version: number, broken = false) =>
  defineStage({
    name,
    version,
    input: z.object({ probe: z.string() }),
    output: z.object({ version: z.number() }),
    async run(input, ctx) {
      recordProbe(input.probe, { event: 'start', stage: `${name}@${version}`, key: ctx.stepPath, attempt: ctx.attempt });
      if (broken) throw new StageError('ReleaseBroken', `${name} version ${version} is broken`, { retryable: false });
      return { version };
    },
  });

const stageFix = (stamp: number, release: number, broken: boolean) =>
  definePipeline({ name: 'kit-stage-fix', version: 1, input: Input })
    .task('draft', kitStep, { input: { ...P, value: 1 }, resultPath: '$.draft' })
    .task('stamp', versioned('kit-stamp', stamp), { input: P, resultPath: '$.stamp' })
    .task('release', versioned('kit-release', release, broken), { input: P, resultPath: '$.release' })
    .build();

/** `kit-stage-fix` version 1 as first deployed: its release stage (version 1) is broken. */
export const kitStageFixBroken = stageFix(1, 1, true);
/** The same pipeline version and IR, redeployed with new versions of its stamp and release stages (release fixed). */
export const kitStageFixFixed = stageFix(2, 2, false);

/** Scenario 36's first deploy: the kit's pipelines, `kit-versioned` version 1 and the broken `kit-stage-fix`. */
export const kitDeployV1: AnyPipeline[] = [...conformancePipelines, kitVersionedV1, kitStageFixBroken];
/** Scenario 36's second deploy: versions 1 and 2 side by side; `kit-stage-fix` with new stage versions. */
export const kitDeployBoth: AnyPipeline[] = [...conformancePipelines, kitVersionedV1, kitVersionedV2, kitStageFixFixed];
/** Scenario 36's last deploy: version 1 gone. */
export const kitDeployV2: AnyPipeline[] = [...conformancePipelines, kitVersionedV2, kitStageFixFixed];

/** The kit's pipelines with the versions of `kit-versioned` each deploy of scenario 36 loads. */
export const KIT_VERSION_DEPLOYS = { v1: kitDeployV1, both: kitDeployBoth, v2: kitDeployV2 } as const;

/** Which deploy of scenario 36 to load (see {@link KIT_VERSION_DEPLOYS}). */
export type KitVersionDeploy = keyof typeof KIT_VERSION_DEPLOYS;

/**
 * The export of this module (`testkit/pipelines-versions.js`, which imports no vitest) holding each
 * deploy's pipelines, for worker processes that load their pipelines by module and export name.
 */
export const KIT_DEPLOY_EXPORTS: Record<KitVersionDeploy | 'conformance', string> = {
  conformance: 'conformancePipelines',
  v1: 'kitDeployV1',
  both: 'kitDeployBoth',
  v2: 'kitDeployV2',
};

export { conformancePipelines };
