import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baton, workdir } from './test-support/spawn.js';

interface Asl {
  StartAt: string;
  States: Record<string, { Type: string; Resource?: string; Next?: string; End?: boolean }>;
}

describe('baton compile --target stepfunctions', () => {
  it('writes the ASL JSON, the compile report and a CDK app for each pipeline', () => {
    const dir = workdir();
    const r = baton(dir, ['compile', '--target', 'stepfunctions', '--out', 'sfn']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('report: STANDARD state machine');
    const out = join(dir, 'sfn/report');
    for (const f of [
      'report.asl.json',
      'compile-report.json',
      'cdk/package.json',
      'cdk/cdk.json',
      'cdk/bin/app.ts',
      // the example exports its stages: one entry per stage function (a bundle with that stage only)
      'cdk/handlers/stages/generate.ts',
      'cdk/handlers/stages/ingest.ts',
      'cdk/handlers/review-gate.ts',
      'cdk/handlers/registry-writer.ts',
    ]) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const asl = JSON.parse(readFileSync(join(out, 'report.asl.json'), 'utf8')) as Asl;
    expect(asl.States[asl.StartAt]).toBeDefined();
    // every Next names a state, and the review gate waits for a task token
    for (const s of Object.values(asl.States)) if (s.Next) expect(asl.States[s.Next], s.Next).toBeDefined();
    expect(JSON.stringify(asl)).toContain('.waitForTaskToken');
    expect(JSON.stringify(asl)).toContain('${fn_generate}');
    const report = JSON.parse(readFileSync(join(out, 'compile-report.json'), 'utf8')) as { pipeline: string; type: string };
    expect(report).toMatchObject({ pipeline: 'report', type: 'STANDARD' });
    expect(readFileSync(join(out, 'cdk/bin/app.ts'), 'utf8')).toContain("import { reportPipeline as pipeline } from '@baton/example-report'");
    // the deployed machine: an execution timeout; failed runs reach the dead-letter queue from their status change
    // (the review gate, then up to 4 more rounds in the review loop, 7 days each)
    expect((asl as Asl & { TimeoutSeconds?: number }).TimeoutSeconds).toBe(86_400 + 5 * 7 * 24 * 3600);
    expect(existsSync(join(out, 'cdk/handlers/dead-letter.ts'))).toBe(true);
    expect(existsSync(join(out, 'cdk/handlers/stage.ts'))).toBe(false);
    expect(readFileSync(join(out, 'cdk/handlers/stages/generate.ts'), 'utf8')).toContain("import { generate as stage } from '@baton/example-report';");
    expect(r.stdout).not.toContain('bundle the whole pipeline');
    expect(r.stdout).toContain('npx cdk deploy -c model=bedrock:<modelId> -c databaseSecretArn=<secret ARN>');
  });

  it("writes the deployment settings it is given into the app's cdk.json", () => {
    const dir = workdir();
    const secret = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:baton-db-AbCdEf';
    const r = baton(dir, [
      'compile',
      'report',
      '--out',
      'sfn',
      '--model',
      'bedrock:anthropic.claude-3-5-haiku-20241022-v1:0',
      '--database-secret-arn',
      secret,
      '--dashboard-url',
      'https://baton.example.com',
    ]);
    expect(r.code).toBe(0);
    const cdk = JSON.parse(readFileSync(join(dir, 'sfn/report/cdk/cdk.json'), 'utf8')) as { context: Record<string, string> };
    expect(cdk.context).toEqual({
      model: 'bedrock:anthropic.claude-3-5-haiku-20241022-v1:0',
      databaseSecretArn: secret,
      dashboardUrl: 'https://baton.example.com',
    });
    expect(r.stdout).toMatch(/npx cdk deploy\n/);
  });

  it('refuses an EXPRESS machine with an approval gate, and unknown targets, with a clear error', () => {
    const dir = workdir();
    const ex = baton(dir, ['compile', 'report', '--out', 'sfn', '--type', 'EXPRESS']);
    expect(ex.code).toBe(1);
    expect(ex.stderr).toContain('pipeline "report" cannot run as a EXPRESS state machine');
    expect(existsSync(join(dir, 'sfn/report/report.asl.json'))).toBe(false);
    const t = baton(dir, ['compile', '--target', 'temporal', '--out', 'x']);
    expect(t.code).toBe(2);
    expect(t.stderr).toContain("argument 'temporal' is invalid");
    const p = baton(dir, ['compile', 'nope', '--out', 'x']);
    expect(p.code).toBe(2);
    expect(p.stderr).toContain('no pipeline "nope"');
  });
});
