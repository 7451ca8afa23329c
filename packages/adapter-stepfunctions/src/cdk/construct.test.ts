import { conformancePipelines } from '@baton/core/testkit';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BatonStateMachine } from './construct.js';

const kit = (name: string) => conformancePipelines.find((p) => p.name === name)!;
const inline = () => lambda.Code.fromInline('exports.handler = async (e) => e.input;');

function synth(name: string, extra: Partial<ConstructorParameters<typeof BatonStateMachine>[2]> = {}): { template: Template; construct: BatonStateMachine } {
  const app = new App();
  const stack = new Stack(app, 'Baton', { env: { account: '123456789012', region: 'eu-west-1' } });
  const construct = new BatonStateMachine(stack, 'Pipeline', { pipeline: kit(name), stageEntry: () => '', code: inline, ...extra });
  app.synth();
  return { template: Template.fromStack(stack), construct };
}

describe('BatonStateMachine (offline cdk synth)', { timeout: 120_000 }, () => {
  it('state machine from the compiled ASL with function ARNs substituted, log level ALL with execution data, X-Ray', () => {
    const { template, construct } = synth('kit-approval', { xray: true });
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      StateMachineName: 'kit-approval',
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true, Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: Match.anyValue() } }] },
      TracingConfiguration: { Enabled: true },
      DefinitionSubstitutions: { fn_kit_step: { 'Fn::GetAtt': [Match.stringLikeRegexp('Fnkitstep'), 'Arn'] }, fn_review_gate: Match.anyValue() },
    });
    const sm = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] as { Properties: { DefinitionString: unknown } };
    const definition = JSON.parse(sm.Properties.DefinitionString as string) as { States: Record<string, Record<string, unknown>> };
    expect(definition).toEqual(construct.compiled.definition);
    expect(definition.States.draft).toMatchObject({ Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: '${fn_kit_step}' } });
    expect(definition.States.review!.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
    expect(construct.compiled.definition.States.review).toMatchObject({ Parameters: { FunctionName: '${fn_review_gate}' } });
  });

  it('one function per stage plus the review gate, Node 22, X-Ray tracing, bucket name in the environment', () => {
    const { template } = synth('kit-approval', { xray: true });
    // kit-approval uses kit-step and kit-handler, plus the review gate
    template.resourceCountIs('AWS::Lambda::Function', 3);
    template.allResourcesProperties('AWS::Lambda::Function', { Runtime: 'nodejs22.x', TracingConfig: { Mode: 'Active' }, Environment: { Variables: { BATON_BUCKET: Match.anyValue() } } });
  });

  it('least privilege: the state machine role may invoke exactly its own functions', () => {
    const { template } = synth('kit-exhausted');
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('StateMachineRole') }] } });
    const statements = Object.values(policies).flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] } } }).Properties.PolicyDocument.Statement);
    const invoke = statements.filter((s) => JSON.stringify(s.Action).includes('lambda:InvokeFunction'));
    const resources = JSON.stringify(invoke.map((s) => s.Resource));
    expect(resources).toMatch(/Fnkitflaky/);
    expect(resources).toMatch(/Fnkithandler/);
    expect(resources).not.toContain('"*"');
    // the only wildcard is CloudWatch Logs' vended-log delivery, which AWS only grants on "*"
    for (const s of statements.filter((x) => x.Resource === '*')) expect((s.Action as string[]).every((a) => a.startsWith('logs:'))).toBe(true);
    // the functions may use the claim-check bucket and nothing else of the account
    const fnPolicies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('Fnkitflaky') }] } });
    expect(JSON.stringify(fnPolicies)).toMatch(/s3:GetObject/);
    expect(JSON.stringify(fnPolicies)).not.toMatch(/states:|lambda:/);
  });

  it('EXPRESS without approvals; DISTRIBUTED maps may start only their own executions', () => {
    const { template } = synth('kit-scale', { type: 'EXPRESS' });
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', { StateMachineType: 'EXPRESS' });
    expect(() => synth('kit-approval', { type: 'EXPRESS' })).toThrow(/waitForTaskToken/);
    const big = synth('kit-scale', { compile: { expectedItems: { items: 5000 } } }).template;
    const policies = JSON.stringify(big.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('states:StartExecution');
    expect(policies).toMatch(/stateMachine:kit-scale/);
  });

  it('bundles stage Lambdas with esbuild when no prebuilt code is given', () => {
    const app = new App();
    const stack = new Stack(app, 'Bundled', { env: { account: '123456789012', region: 'eu-west-1' } });
    const entry = fileURLToPath(new URL('./fixtures/stage.ts', import.meta.url));
    new BatonStateMachine(stack, 'Pipeline', { pipeline: kit('kit-sequence'), stageEntry: () => entry });
    const assembly = app.synth();
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.handler', Code: { S3Key: Match.stringLikeRegexp('\\.zip$') } });
    expect(assembly.artifacts.length).toBeGreaterThan(0);
  }, 120_000);
});
