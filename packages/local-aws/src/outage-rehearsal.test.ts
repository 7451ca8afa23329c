import { StageError, type Engine, type ModelClient } from '@baton/core';
import { createOfflineModel } from '@baton/stages';
import { createPostgresRegistry, type RunRegistry } from '@baton/registry';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { rehearse, type Rehearsal } from './rehearse/rehearse.js';
import { engineOn, historyOf, output, reviewLinkIn, uploadSources, TEST_INIT_TIMEOUT_SECONDS } from './rehearse/test-support/report-run.js';
import { strictReportPipeline } from './rehearse/test-support/strict-report.js';
import { REFERENCE, synthesizeApp } from './rehearse/test-support/synth.js';

// A forced model outage on a rehearsed deployment: the run fails, its context reaches the
// dead-letter queue, and RedriveExecution after the outage resumes it. The reference report tolerates failed
// sections (an outage gives placeholders, never a failed run), so this rehearses the reference
// report with a strict sections map: one failed section fails the run.

const postgresUrl = inject('postgresUrl');
let app: { dir: string; cdkOut: string };
let registry: RunRegistry;
const open: { r: Rehearsal; engine: Engine }[] = [];

async function deploy(options: { model?: ModelClient; now?: () => number } = {}): Promise<{ r: Rehearsal; engine: Engine }> {
  const r = await rehearse(app.cdkOut, {
    databaseUrl: postgresUrl,
    timeScale: 0.01,
    initTimeoutSeconds: TEST_INIT_TIMEOUT_SECONDS,
    bedrock: { models: [REFERENCE.model], ...(options.model ? { model: options.model } : {}) },
    ...(options.now ? { now: options.now } : {}),
  });
  const engine = engineOn(r, strictReportPipeline, registry);
  open.push({ r, engine });
  return { r, engine };
}

/** Invocations so far per function, by the stage or role in its logical id (`generate`, `plan`…). */
function invocationsByFunction(r: Rehearsal): Record<string, number> {
  const byName = new Map(Object.entries(r.functions).map(([id, f]) => [f.name, id.replace(/^PipelineFn/, '').replace(/[0-9A-F]{8}$/, '')]));
  const out: Record<string, number> = {};
  for (const i of r.lambda.invocations) out[byName.get(i.name)!] = (out[byName.get(i.name)!] ?? 0) + 1;
  return out;
}

/** Waits until no invocation has ended for a second and a half. */
async function quiet(r: Rehearsal): Promise<void> {
  let seen = -1;
  while (seen !== r.lambda.invocations.length) {
    seen = r.lambda.invocations.length;
    await new Promise((res) => setTimeout(res, 1500));
  }
}

/** Starts the report with Bedrock answering 503 to every call; returns the failed run. */
async function failDuringOutage(r: Rehearsal, engine: Engine): Promise<{ runId: string; executionArn: string }> {
  const sources = await uploadSources(r);
  r.bedrock.setOutage('unavailable');
  const { runId } = await engine.start('report', { sources, reportId: 'RPT-OUTAGE', reviewerId: 'alice@example.com' });
  const failed = await engine.result(runId, { timeoutMs: 120_000 });
  expect(failed).toMatchObject({ status: 'failed', error: { code: 'ServiceUnavailableException' } });
  // the other sections' invocations already running finish (their Lambdas are not stopped by the failure)
  await quiet(r);
  expect(r.bedrock.requests.length).toBeGreaterThan(0);
  expect(r.bedrock.requests.every((q) => q.status === 503)).toBe(true);
  r.bedrock.setOutage(undefined);
  r.bedrock.requests.length = 0;
  return { runId, executionArn: `${r.stateMachineArn!.replace(':stateMachine:', ':execution:')}:${runId}` };
}

beforeAll(async () => {
  app = synthesizeApp(strictReportPipeline, {
    pipelineModule: join(import.meta.dirname, 'rehearse/test-support/strict-report.ts'),
    exportName: 'strictReportPipeline',
  });
  registry = await createPostgresRegistry({ connectionString: postgresUrl });
});

afterAll(async () => {
  for (const { r, engine } of open) {
    await engine.close();
    await r.close();
  }
  await registry?.close();
  if (app) rmSync(app.dir, { recursive: true, force: true });
});

describe('a model outage on the rehearsed deployment (reference report, strict sections map)', () => {
  it('fails the run with its context on the dead-letter queue; RedriveExecution after the outage re-runs only the failed sections, and the run completes', async () => {
    const { r, engine } = await deploy();
    const mailbox = await r.subscribeQueue(output(r, 'ReviewTopicArn'));
    const { runId, executionArn } = await failDuringOutage(r, engine);

    // the dead-letter function, invoked by the rule on FAILED status changes, sends the run's context
    const deadLetters = output(r, 'DeadLetterQueueUrl');
    const letter = await r.nextMessage(deadLetters, 20_000);
    expect(letter, 'no dead letter').toBeDefined();
    const context = JSON.parse(letter!.message) as Record<string, unknown>;
    expect(context).toMatchObject({ runId, executionArn, error: 'ServiceUnavailableException' });
    expect(String(context.failedStep)).toMatch(/sections/);
    expect(JSON.stringify(context.input)).toContain('RPT-OUTAGE');

    // after the outage: RedriveExecution through the engine; ingest and plan are not run again
    const before = invocationsByFunction(r);
    const started = Date.now();
    await engine.redrive(runId);
    const notice = await r.nextMessage(mailbox, 120_000);
    expect(notice, 'no review notice after the redrive').toBeDefined();
    await engine.approve(runId, 'review', { token: reviewLinkIn(notice!.message).token, reviewer: 'alice@example.com' });
    const outcome = await engine.result(runId, { timeoutMs: 120_000 });
    expect(outcome.status).toBe('succeeded');
    expect((outcome as { output: { report: { sections: unknown } } }).output.report.sections).toMatchObject({ total: 9, ok: 9, failed: 0 });
    const after = invocationsByFunction(r);
    expect([after.ingest, after.plan]).toEqual([before.ingest, before.plan]);
    // each failed section's generate runs once more, through the model
    expect((after.generate ?? 0) - (before.generate ?? 0)).toBe(9);
    expect(r.bedrock.requests.filter((q) => q.status === 200)).toHaveLength(9);
    const history = await historyOf(r, executionArn);
    expect(history.filter((e) => e.type === 'ExecutionRedriven')).toHaveLength(1);
    // the failed attempt: the sections map (MaxConcurrency 4) stopped at its first failed section, as Step Functions
    // does: no section started after it (the interpreter's queued items are refused), the ones in flight were aborted
    const failedAttempt = history.slice(
      0,
      history.findIndex((e) => e.type === 'ExecutionRedriven'),
    );
    const sectionsStarted = failedAttempt.filter((e) => e.type === 'MapIterationStarted' && e.mapIterationStartedEventDetails?.name === 'sections');
    expect(sectionsStarted.length).toBeGreaterThan(0);
    expect(sectionsStarted.length).toBeLessThanOrEqual(4);

    await r.settle();
    expect(await r.nextMessage(deadLetters, 1_000)).toBeUndefined();
    expect((await registry.getRun(runId))?.status).toBe('succeeded');
    expect(r.denials).toEqual([]);
    console.info(
      `outage: failed after ${before.generate} generate invocations in ${sectionsStarted.length} sections (all Bedrock calls 503; no section started after the first failed), dead letter sent; redrive to success in ${((Date.now() - started) / 1000).toFixed(1)} s (review included): generate re-run 9 times, ingest and plan 0 times`,
    );
  });

  it('past the 14 days Step Functions redrives, engine.redrive replays the run as <runId>.r1: the sections that succeeded and ingest and plan are reused from the step memo, only the failed sections run again', async () => {
    // Bedrock fails the last two sections (503 on every attempt) until `down` is cleared; the other sections succeed
    const offline = createOfflineModel();
    const down = new Set(['Discussion', 'Conclusions']);
    const model: ModelClient = {
      modelId: offline.modelId,
      async complete(request, opts) {
        const prompt = request.messages.map((m) => m.content).join('\n');
        const title = [...down].find((t) => prompt.includes(`the section "${t}"`));
        if (title) throw new StageError('ServiceUnavailableException', `section "${title}": Bedrock is unable to process your request.`);
        return offline.complete(request, opts);
      },
    };
    let clockOffset = 0;
    const { r, engine } = await deploy({ model, now: () => Date.now() + clockOffset });
    const mailbox = await r.subscribeQueue(output(r, 'ReviewTopicArn'));
    const sources = await uploadSources(r);
    const { runId } = await engine.start('report', { sources, reportId: 'RPT-REPLAY', reviewerId: 'alice@example.com' });
    const failed = await engine.result(runId, { timeoutMs: 120_000 });
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'ServiceUnavailableException' } });
    await quiet(r);
    const generatedFirst = r.bedrock.requests.filter((q) => q.status === 200).length;
    // items start in order, 4 at a time: the first sections were generated before a failing one started
    expect(generatedFirst).toBeGreaterThanOrEqual(4);
    expect(generatedFirst).toBeLessThan(9);
    const attemptsOf = async (stage: string): Promise<number> => ((await registry.getRun(runId))?.attempts ?? []).filter((a) => a.stage === stage).length;
    const before = { ingest: await attemptsOf('ingest'), plan: await attemptsOf('plan'), generate: await attemptsOf('generate') };

    // 15 days later Step Functions refuses RedriveExecution; the engine replays the run instead
    clockOffset = 15 * 86_400_000;
    down.clear();
    r.bedrock.requests.length = 0;
    await engine.redrive(runId);
    const status = await engine.status(runId);
    expect(status.runId).toBe(runId);
    const notice = await r.nextMessage(mailbox, 120_000);
    expect(notice, 'no review notice from the replay').toBeDefined();
    await engine.approve(runId, 'review', { token: reviewLinkIn(notice!.message).token, reviewer: 'alice@example.com' });
    const outcome = await engine.result(runId, { timeoutMs: 120_000 });
    expect(outcome.status).toBe('succeeded');
    expect((outcome as { output: { report: { sections: unknown } } }).output.report.sections).toMatchObject({ total: 9, ok: 9, failed: 0 });

    // only the sections that had not been generated called the model; ingest and plan never ran again
    expect(r.bedrock.requests.filter((q) => q.status === 200)).toHaveLength(9 - generatedFirst);
    const after = { ingest: await attemptsOf('ingest'), plan: await attemptsOf('plan'), generate: await attemptsOf('generate') };
    expect([after.ingest, after.plan]).toEqual([before.ingest, before.plan]);
    expect(after.generate - before.generate).toBe(9 - generatedFirst);
    // the replay is a second execution of the machine, named after the run
    const replayArn = `${r.stateMachineArn!.replace(':stateMachine:', ':execution:')}:${runId}.r1`;
    const history = await historyOf(r, replayArn);
    expect(history.at(-1)?.type).toBe('ExecutionSucceeded');
    await r.settle();
    const runs = await engine.list({ pipeline: 'report' });
    expect(runs.filter((x) => x.runId === runId)).toEqual([expect.objectContaining({ runId, status: 'succeeded' })]);
    expect((await registry.getRun(runId))?.status).toBe('succeeded');
    expect(r.denials).toEqual([]);
    console.info(
      `replay past 14 days: ${generatedFirst} of 9 sections reused from the first execution, ${9 - generatedFirst} generated again; ingest and plan reused`,
    );
  });
});
