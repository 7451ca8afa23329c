import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { estimateRunCost, type AslDefinition } from '@baton/adapter-stepfunctions';
import { cfnLint } from '@baton/adapter-stepfunctions/cdk';
import { reportPipeline } from '@baton/example-report';
import { auditRunRecord, createPostgresRegistry, type RunRegistry } from '@baton/registry';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { CfnTemplate } from './rehearse/cloud-assembly.js';
import { rehearse, type Rehearsal } from './rehearse/rehearse.js';
import { baton, batonInBackground } from './rehearse/test-support/cli.js';
import {
  adminConfig,
  engineOn,
  historyOf,
  output,
  reviewLinkIn,
  transitionsOf,
  uploadSources,
  waitFor,
  TEST_INIT_TIMEOUT_SECONDS,
} from './rehearse/test-support/report-run.js';
import { REFERENCE, synthesizeApp } from './rehearse/test-support/synth.js';

// The reference report's generated CDK app, synthesized as `cdk synth` does, rehearsed from its
// cloud assembly: every resource of the template created locally, IAM enforced with each role's own
// statements, the deployed functions run from their bundled assets.

const postgresUrl = inject('postgresUrl');
const HANDWRITTEN = join(import.meta.dirname, '../../../bench/stepfunctions-handwritten.asl.json');
const input = (sources: unknown) => ({ sources, reportId: 'RPT-2026-014', reviewerId: 'alice@example.com' });
let app: { dir: string; cdkOut: string };
let registry: RunRegistry;
const open: Rehearsal[] = [];

/** A rehearsal of the synthesized app, retries 100 times faster. */
async function start(transformTemplate?: (t: CfnTemplate) => void): Promise<Rehearsal> {
  const r = await rehearse(app.cdkOut, {
    databaseUrl: postgresUrl,
    timeScale: 0.01,
    initTimeoutSeconds: TEST_INIT_TIMEOUT_SECONDS,
    bedrock: { models: [REFERENCE.model] },
    ...(transformTemplate ? { transformTemplate } : {}),
  });
  open.push(r);
  return r;
}

beforeAll(async () => {
  const started = Date.now();
  app = synthesizeApp(reportPipeline, {
    pipelineModule: '@baton/example-report',
    exportName: 'reportPipeline',
    // per-stage entries, as `baton compile` writes them: each function runs its own stage's bundle
    moduleExports: (await import('@baton/example-report')) as unknown as Record<string, unknown>,
  });
  console.info(`synthesized the reference app in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  registry = await createPostgresRegistry({ connectionString: postgresUrl });
});

afterAll(async () => {
  for (const r of open) await r.close();
  await registry?.close();
  if (app) rmSync(app.dir, { recursive: true, force: true });
});

describe('the reference report rehearsed from its synthesized template', () => {
  it('creates the stack, then runs end to end with IAM enforced: 9 of 9 sections from Bedrock, the SNS notice approves, the DOCX in S3, a clean registry audit, no denial', async () => {
    const templateFile = join(app.cdkOut, 'ReportStepFunctions.template.json');
    expect(cfnLint([templateFile]).filter((f) => f.Level === 'Error')).toEqual([]);
    const t0 = Date.now();
    const r = await start();
    const setupSeconds = (Date.now() - t0) / 1000;
    const created = (type: string): number => r.resources.filter((x) => x.type === type && x.status === 'created').length;
    const stages = reportPipeline.stages.size;
    // a function per stage, the review gate, the registry writer and the dead-letter function; a role for each and the machine's
    expect(created('AWS::Lambda::Function')).toBe(stages + 3);
    expect(created('AWS::IAM::Role')).toBe(stages + 4);
    expect(created('AWS::StepFunctions::StateMachine')).toBe(1);
    expect(created('AWS::Events::Rule')).toBe(2);
    expect(r.resources.filter((x) => x.status === 'skipped')).toEqual([]);
    expect(r.stateMachineArn).toBe(`arn:aws:states:${REFERENCE.region}:${REFERENCE.account}:stateMachine:report`);
    expect(Object.values(r.secrets)).toContain(REFERENCE.databaseSecretArn);

    const sources = await uploadSources(r);
    const mailbox = await r.subscribeQueue(output(r, 'ReviewTopicArn'), 'reviewer-alice');
    const engine = engineOn(r, reportPipeline, registry);
    r.bedrock.requests.length = 0;
    const invocationsBefore = r.lambda.invocations.length;
    const started = Date.now();
    const { runId } = await engine.start('report', input(sources));

    // the reviewer's notice, from the queue subscribed to the stack's review topic
    const notice = await r.nextMessage(mailbox, 120_000);
    const secondsToNotice = (Date.now() - started) / 1000;
    expect(notice, 'no review notice within 120 s').toBeDefined();
    expect(notice!.attributes).toMatchObject({ runId, gate: 'review', reviewer: 'alice@example.com', pipeline: 'report' });
    const { url, token } = reviewLinkIn(notice!.message);
    expect(url.origin + url.pathname).toBe(`${REFERENCE.dashboardUrl}/reviews/${runId}/review`);

    // approved with the link's token through the Step Functions engine; the token is single-use
    await engine.approve(runId, 'review', { token, reviewer: 'alice@example.com', comment: 'rehearsed' });
    await expect(engine.approve(runId, 'review', { token, reviewer: 'alice@example.com' })).rejects.toThrow();
    const outcome = await engine.result(runId, { timeoutMs: 120_000 });
    expect(outcome.status).toBe('succeeded');
    const report = (outcome as { output: { report: { docxKey: string; sections: Record<string, number> } } }).output.report;
    expect(report.sections).toMatchObject({ total: 9, ok: 9, failed: 0, held: 0 });

    // 9 of 9 sections came from the model client, through the SDK to the local Bedrock server
    const calls = r.bedrock.requests.filter((q) => q.modelId === REFERENCE.model);
    expect(calls.length).toBeGreaterThanOrEqual(9);
    expect(calls.every((q) => q.status === 200)).toBe(true);

    // the DOCX, in the stack's bucket
    const s3 = new S3Client({ ...adminConfig(r), forcePathStyle: true });
    const docx = await (await s3.send(new GetObjectCommand({ Bucket: output(r, 'BlobBucketName'), Key: report.docxKey }))).Body!.transformToByteArray();
    s3.destroy();
    expect(Buffer.from(docx.subarray(0, 2)).toString()).toBe('PK');

    // the registry, written by the stage functions, the review gate and the registry writer (through the status-change rule)
    await r.settle();
    const executionArn = `${r.stateMachineArn!.replace(':stateMachine:', ':execution:')}:${runId}`;
    await waitFor(async () => ((await registry.getRun(runId))?.finishedAt ? true : undefined), 20_000, 'the registry writer to record the end');
    expect((await auditRunRecord(registry, engine, runId)).problems).toEqual([]);
    const run = (await registry.getRun(runId))!;
    expect(run).toMatchObject({
      status: 'succeeded',
      engine: 'stepfunctions',
      reportId: 'RPT-2026-014',
      reviewerId: 'alice@example.com',
      executionId: executionArn,
    });
    expect(run.attempts.filter((a) => a.stage === 'generate' && a.status === 'succeeded')).toHaveLength(9);
    // every source parsed, the PDF too: the ingest function loads pdf.js from the unpdf shipped beside its bundle
    expect(run.attempts.filter((a) => a.stage === 'ingest' && a.status === 'succeeded')).toHaveLength(sources.length);
    expect(sources.some((s) => s.name.endsWith('.pdf'))).toBe(true);
    expect(run.reviews).toMatchObject([{ gate: 'review', decision: 'approved', decidedBy: 'alice@example.com' }]);
    expect(r.deliveries.filter((d) => d.status !== 'delivered')).toEqual([]);

    // IAM: nothing refused, and every traced invocation's segment was accepted
    expect(r.denials).toEqual([]);
    expect(r.segments.refused).toEqual([]);
    expect(r.segments.sent).toBeGreaterThan(0);

    // figures (issue 14)
    const runInvocations = r.lambda.invocations.slice(invocationsBefore);
    const byRules = new Set(
      Object.entries(r.functions)
        .filter(([k]) => /registrywriter|deadletter/.test(k))
        .map(([, f]) => f.name),
    );
    const byMachine = runInvocations.filter((i) => !byRules.has(i.name)).length;
    const transitions = transitionsOf(await historyOf(r, executionArn));
    const deployed = JSON.parse(readFileSync(join(app.dir, 'report.asl.json'), 'utf8')) as AslDefinition;
    const handwritten = JSON.parse(readFileSync(HANDWRITTEN, 'utf8')) as AslDefinition;
    const est = (def: AslDefinition, n: number) => estimateRunCost(def, { sections: n, ingest: sources.length });
    console.info(
      [
        `rehearsal figures (reference report, ${sources.length} sources):`,
        `  set-up ${setupSeconds.toFixed(1)} s; start -> review notice ${secondsToNotice.toFixed(1)} s (cold sandboxes included); IAM denials ${r.denials.length}; X-Ray segments ${r.segments.sent}`,
        `  measured, 9 sections: ${transitions} state transitions, ${byMachine} Lambda invocations by the state machine (+${runInvocations.length - byMachine} by the status-change rules), ${calls.length} Bedrock calls`,
        ...[9, 40].map((n) => {
          const d = est(deployed, n);
          const h = est(handwritten, n);
          return `  static estimate, ${n} sections: deployed ${d.transitions} transitions / ${d.lambdaInvocations} invocations; hand-written ${h.transitions} / ${h.lambdaInvocations} (ratio ${(d.transitions / h.transitions).toFixed(2)})`;
        }),
      ].join('\n'),
    );
    await engine.close();
    await r.close();
  });

  it("removing any one statement of the generate function's policy fails the rehearsal, naming the denied action", async () => {
    const template = JSON.parse(readFileSync(join(app.cdkOut, 'ReportStepFunctions.template.json'), 'utf8')) as CfnTemplate;
    const policyId = generatePolicyOf(template);
    const statements = (template.Resources[policyId]!.Properties!.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement;
    expect(statements.length).toBeGreaterThanOrEqual(4);
    const rows: string[] = [];
    for (const [i, statement] of statements.entries()) {
      const actions = [statement.Action].flat();
      const t0 = Date.now();
      const r = await start((t) => {
        const doc = t.Resources[policyId]!.Properties!.PolicyDocument as { Statement: unknown[] };
        doc.Statement.splice(i, 1);
      });
      const sources = await uploadSources(r);
      const engine = engineOn(r, reportPipeline, registry);
      await engine.start('report', input(sources));
      const denial = await waitFor(() => r.denials.find((d) => actions.includes(d.action)), 90_000, `a denial of ${actions.join(' or ')}`).catch((e: Error) => {
        const seen = r.lambda.invocations.map((x) => `${x.name.split('-')[1]}:${x.error ?? 'ok'}`).join(' ');
        throw new Error(`${e.message}; invocations: ${seen}; denials: ${JSON.stringify(r.denials)}`);
      });
      expect(denial.principal).toContain('PipelineFngenerate');
      rows.push(
        `  without statement ${i} (${actions.join(', ')}): denied ${denial.action} on ${denial.resource} (by ${denial.enforcedBy}) after ${((Date.now() - t0) / 1000).toFixed(1)} s`,
      );
      await engine.close();
      await r.close();
    }
    console.info(`IAM statement removal, generate's policy (${statements.length} statements):\n${rows.join('\n')}`);
  });
});

describe('the reference report driven from the command line', () => {
  it('baton rehearse serves the app; baton run --engine stepfunctions starts a run, the notice it prints approves with baton approve --engine stepfunctions', async () => {
    const work = mkdtempSync(join(tmpdir(), 'baton-cli-rehearsal-'));
    const rehearsal = batonInBackground(
      ['rehearse', app.cdkOut, '--port', '0', '--sfn-port', '0', '--lambda-port', '0', '--time-scale', '0.01', '--database-url', postgresUrl],
      process.env,
    );
    try {
      await rehearsal.waitFor(/Rehearsal running/, 90_000);
      const printed = rehearsal.output();
      expect(printed).toContain('IAM denials: 0');
      const env: NodeJS.ProcessEnv = { ...process.env };
      for (const m of printed.matchAll(/export (AWS_\w+)=(\S+)/g)) env[m[1]!] = m[2]!;
      const stateMachineArn = /state machine: (\S+)/.exec(printed)![1]!;
      const bucket = /BlobBucketName\w* = (\S+)/.exec(printed)![1]!;
      const deployed = [
        '--engine',
        'stepfunctions',
        '--state-machine-arn',
        stateMachineArn,
        '--blob-bucket',
        bucket,
        '--database-url',
        postgresUrl,
        '--state-dir',
        join(work, 'state'),
      ];
      const sources = join(import.meta.dirname, '../../../examples/report-generation/sources');
      const run = await baton(['run', 'report', '--sources', sources, '--out', join(work, 'out'), ...deployed], env);
      expect(run.stdout + run.stderr).toMatch(/is waiting for review at gate "review"/);
      // the reviewer's notice, printed by baton rehearse from the queue it subscribed to the review topic
      const [link] = await rehearsal.waitFor(/https?:\/\/\S+\/reviews\/\S+token=\S+/, 30_000);
      const url = new URL(link);
      const [, , runId, gate] = url.pathname.split('/');
      const approve = await baton(
        ['approve', runId!, gate!, '--token', url.searchParams.get('token')!, '--reviewer', 'alice@example.com', '--out', join(work, 'out'), ...deployed],
        env,
      );
      expect(approve.code, approve.stderr).toBe(0);
      expect(approve.stdout).toMatch(/SUCCEEDED/);
      expect(approve.stdout).toMatch(/sections: total 9, ok 9/);
      expect(existsSync(join(work, 'out/report.docx'))).toBe(true);
    } finally {
      const code = await rehearsal.stop();
      rmSync(work, { recursive: true, force: true });
      expect(rehearsal.output()).toMatch(/SIGINT: rehearsal stopped\. IAM denials: 0/);
      expect(code).toBe(0);
    }
  });
});

/** The logical id of the inline policy on the role of the function running stage `generate`. */
function generatePolicyOf(template: CfnTemplate): string {
  const fn = Object.values(template.Resources).find(
    (r) =>
      r.Type === 'AWS::Lambda::Function' &&
      (r.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables?.BATON_STAGE === 'generate',
  );
  const role = ((fn?.Properties?.Role as { 'Fn::GetAtt'?: string[] } | undefined)?.['Fn::GetAtt'] ?? [])[0];
  const policy = Object.entries(template.Resources).find(
    ([, r]) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties?.Roles) === JSON.stringify([{ Ref: role }]),
  );
  if (!policy) throw new Error("no inline policy on the generate function's role");
  return policy[0];
}
