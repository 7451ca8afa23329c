import { CreateStateMachineAliasCommand, DescribeExecutionCommand, UpdateStateMachineAliasCommand, UpdateStateMachineCommand } from '@aws-sdk/client-sfn';
import { definePipeline, type AnyPipeline, type AnyStage } from '@baton/core';
import { conformancePipelines, createProbeDir, setProbeFlag } from '@baton/core/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { executionArnOf } from './service-errors.js';
import { deploy, type LocalDeployment } from './test-support/deployed.js';

// version 1: kit-map-strict (before -> map of items); version 2 adds a step after the map
const v1 = conformancePipelines.find((p) => p.name === 'kit-map-strict')!;
const stage = (name: string): AnyStage => v1.stages.get(name)!;
const P = { 'probe.$': '$.probe' };
const item = { ...P, 'index.$': '$$.Map.Item.Index', 'value.$': '$$.Map.Item.Value', 'delayMs.$': '$.delayMs', 'failIndexes.$': '$.failIndexes' };
const v2: AnyPipeline = definePipeline({ name: 'kit-map-strict', version: 2, input: z.looseObject({ probe: z.string() }) })
  .task('before', stage('kit-step'), { input: { ...P, value: 0 }, resultPath: '$.before' })
  .map('items', { items: '$.items', itemSelector: item, resultPath: '$.results', maxConcurrency: 2 }, (b) => b.task('item', stage('kit-item')))
  .task('after', stage('kit-step'), { input: { ...P, value: 2 }, resultPath: '$.after' })
  .build();

const DAY = 86_400_000;

describe("replay of a deployed run past the 14 days starts the run's own state machine version", { timeout: 120_000 }, () => {
  let clock = Date.now();
  let d: LocalDeployment;
  beforeAll(async () => {
    d = await deploy([v1], { versions: true, now: () => clock });
  }, 120_000);
  afterAll(() => d?.close(), 60_000);

  it('a run started on the v1 alias replays on it (v1 with the stages fixed since) after v2 is deployed; one started on the unqualified machine replays what is deployed now', async () => {
    const machine = d.machines['kit-map-strict']!;
    const aliasV1 = d.stateMachines['kit-map-strict']!;
    expect(aliasV1).toBe(`${machine}:v1`);
    const onAlias = d.engine;
    const unpinned = d.engineFor({ 'kit-map-strict': machine }, [v1]);
    const probe = createProbeDir();
    const input = { probe, items: [1, 2, 3], delayMs: 0, failIndexes: [1] };
    const pinned = (await onAlias.start('kit-map-strict', input, { runId: 'pinned-run' })).runId;
    const loose = (await unpinned.start('kit-map-strict', input, { runId: 'loose-run' })).runId;
    for (const [engine, runId] of [
      [onAlias, pinned],
      [unpinned, loose],
    ] as const) {
      expect(await engine.result(runId, { timeoutMs: 60_000 })).toMatchObject({ status: 'failed', error: { code: 'ItemBroken' } });
    }
    const first = await d.client.send(new DescribeExecutionCommand({ executionArn: executionArnOf(machine, pinned) }));
    expect(first.stateMachineAliasArn).toBe(aliasV1);
    expect(first.stateMachineVersionArn).toBe(`${machine}:1`);

    // a stage fix deployed under pipeline version 1: a new revision of v1's definition, published, alias v1 moved to it
    const fixed = await d.client.send(
      new UpdateStateMachineCommand({
        stateMachineArn: machine,
        definition: d.definitionOf(v1).replace('"Comment":"', '"Comment":"fixed stages: '),
        publish: true,
      }),
    );
    expect(fixed.stateMachineVersionArn).toBe(`${machine}:2`);
    await d.client.send(
      new UpdateStateMachineAliasCommand({
        stateMachineAliasArn: aliasV1,
        routingConfiguration: [{ stateMachineVersionArn: fixed.stateMachineVersionArn!, weight: 100 }],
      }),
    );

    // deploy version 2: a new revision, published, and its alias; the operators' engines now start on v2
    const updated = await d.client.send(new UpdateStateMachineCommand({ stateMachineArn: machine, definition: d.definitionOf(v2), publish: true }));
    const aliasV2 = (
      await d.client.send(
        new CreateStateMachineAliasCommand({ name: 'v2', routingConfiguration: [{ stateMachineVersionArn: updated.stateMachineVersionArn!, weight: 100 }] }),
      )
    ).stateMachineAliasArn!;
    const afterDeploy = d.engineFor({ 'kit-map-strict': aliasV2 }, [v2]);
    const unpinnedAfter = d.engineFor({ 'kit-map-strict': machine }, [v2]);

    // 15 days later RedriveExecution is refused: the engines replay the runs
    clock += 15 * DAY;
    setProbeFlag(probe, 'fixed');
    await afterDeploy.redrive(pinned);
    await unpinnedAfter.redrive(loose);
    const replayed = await afterDeploy.result(pinned, { timeoutMs: 60_000 });
    expect(replayed.status).toBe('succeeded');
    // v1's shape: no step after the map
    expect(replayed.status === 'succeeded' && (replayed.output as Record<string, unknown>).after).toBeUndefined();
    // through the run's alias: the newest definition of its pipeline version, with the stage fix
    const replay = await d.client.send(new DescribeExecutionCommand({ executionArn: executionArnOf(machine, 'pinned-run.r1') }));
    expect(replay).toMatchObject({ stateMachineAliasArn: aliasV1, stateMachineVersionArn: fixed.stateMachineVersionArn });
    expect(replay.stateMachineVersionArn).not.toBe(updated.stateMachineVersionArn);
    expect((await afterDeploy.status(pinned)).attempts.some((a) => a.stepPath === 'after')).toBe(false);

    // without a version the replay can only take the definition deployed now (what the engine did before for every run)
    const looseReplayed = await unpinnedAfter.result(loose, { timeoutMs: 60_000 });
    expect(looseReplayed).toMatchObject({ status: 'succeeded', output: { after: expect.anything() } });

    // a new run takes version 2
    const fresh = (await afterDeploy.start('kit-map-strict', { ...input, failIndexes: [] })).runId;
    expect(await afterDeploy.result(fresh, { timeoutMs: 60_000 })).toMatchObject({ status: 'succeeded', output: { after: expect.anything() } });
  });
});
