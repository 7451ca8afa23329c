import { definePipeline } from '@baton/core';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baton, workdir } from '../test-support/spawn.js';
import { blobBucketOf, readDeployment } from './deployment.js';

const pipeline = (name: string) => definePipeline({ name, version: 1 }).succeed('done').build();
const ARN = (name: string): string => `arn:aws:states:eu-west-1:123456789012:stateMachine:${name}`;

/** An outputs file as `cdk deploy --outputs-file` writes it for the generated app (stack, then `<construct><output><hash>`). */
function outputsFile(stacks: Record<string, Record<string, string>>): string {
  const file = join(mkdtempSync(join(tmpdir(), 'baton-cdk-outputs-')), 'outputs.json');
  writeFileSync(file, JSON.stringify(stacks, null, 2));
  return file;
}

describe('readDeployment (--engine stepfunctions)', () => {
  it('reads the StateMachineArn and BlobBucketName outputs of every stack of cdk deploy --outputs-file', () => {
    const cdkOutputs = outputsFile({
      ReportStepFunctions: {
        PipelineStateMachineArn6A1B2C3D: ARN('report'),
        PipelineBlobBucketName0F1E2D3C: 'reportstepfunctions-pipelineblobs-1x2y3z',
        PipelineDeadLetterQueueUrlAB12CD34: 'https://sqs.eu-west-1.amazonaws.com/123456789012/dl',
      },
      TriageStepFunctions: { PipelineStateMachineArn11223344: ARN('triage') },
    });
    const d = readDeployment({ cdkOutputs }, [pipeline('report'), pipeline('triage')]);
    expect(d).toEqual({ stateMachines: { report: ARN('report'), triage: ARN('triage') }, blobBucket: 'reportstepfunctions-pipelineblobs-1x2y3z' });
    expect(blobBucketOf({ cdkOutputs, blobBucket: 'mine' })).toBe('mine');
  });

  it('takes --state-machine-arn for the pipeline it is named after, or the only one, and says what is missing', () => {
    expect(readDeployment({ stateMachineArn: ARN('report') }, [pipeline('report'), pipeline('triage')]).stateMachines).toEqual({ report: ARN('report') });
    expect(readDeployment({ stateMachineArn: ARN('ReportMachine-x1') }, [pipeline('report')]).stateMachines).toEqual({ report: ARN('ReportMachine-x1') });
    expect(() => readDeployment({ stateMachineArn: ARN('other') }, [pipeline('report'), pipeline('triage')])).toThrow(
      /not named after any pipeline of --pipelines \(report, triage\)/,
    );
    expect(() => readDeployment({ stateMachineArn: 'arn:aws:lambda:eu-west-1:1:function:f' }, [pipeline('report')])).toThrow(/not a state machine ARN/);
    expect(() => readDeployment({}, [pipeline('report')])).toThrow(/--state-machine-arn .* or --cdk-outputs/);
    expect(() => readDeployment({ cdkOutputs: outputsFile({ Other: { Url: 'x' } }) }, [pipeline('report')])).toThrow(/has no StateMachineArn output/);
  });
});

describe('baton --engine stepfunctions without its settings (built CLI, no services)', () => {
  it('exits 2 saying which flag or variable is missing: the state machine, the database; --auto-approve is refused', () => {
    const dir = workdir();
    const noArn = baton(dir, ['status', 'r1', '--engine', 'stepfunctions']);
    expect(noArn.code).toBe(2);
    expect(noArn.stderr).toContain('--engine stepfunctions drives a deployed state machine: pass --state-machine-arn');
    const noDb = baton(dir, ['list', '--engine', 'stepfunctions', '--state-machine-arn', ARN('report')]);
    expect(noDb.code).toBe(2);
    expect(noDb.stderr).toContain("--engine stepfunctions needs the run registry's PostgreSQL");
    const auto = baton(dir, ['run', 'report', '--engine', 'stepfunctions', '--state-machine-arn', ARN('report'), '--auto-approve']);
    expect(auto.code).toBe(2);
    expect(auto.stderr).toContain('--auto-approve cannot act on a deployed run');
    const sources = baton(dir, ['run', 'report', '--engine', 'stepfunctions', '--state-machine-arn', ARN('report'), '--sources', 'sources']);
    expect(sources.code).toBe(2);
    expect(sources.stderr).toContain("--sources with --engine stepfunctions reads and writes the deployment's claim-check bucket");
  });
});
