import { definePipeline, defineStage } from '@baton/core';
import { conformancePipelines } from '@baton/core/testkit';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { cfnLint } from './cfn-lint.js';
import { BatonStateMachine, type BatonStateMachineProps } from './construct.js';

const kit = (name: string) => conformancePipelines.find((p) => p.name === name)!;
const inline = () => lambda.Code.fromInline('exports.handler = async (e) => e.input;');
const MODEL = 'anthropic.claude-3-5-haiku-20241022-v1:0';

// a pipeline of the reference shape: a model stage in a map, a stage without a model, a review gate
const Text = z.object({ text: z.string() });
const draft = defineStage({ name: 'draft', version: 1, input: Text, output: Text, usesModel: true, run: async (i) => i });
const tidy = defineStage({ name: 'tidy', version: 1, input: Text, output: Text, run: async (i) => i });
const reviewed = definePipeline({
  name: 'reviewed',
  version: 1,
  input: z.object({ texts: z.array(z.string()), reviewerId: z.string().nullable().default(null) }),
})
  .map(
    'drafts',
    { items: '$.texts', itemSelector: { 'text.$': '$$.Map.Item.Value' }, maxConcurrency: 4, toleratedFailurePercentage: 100, resultPath: '$.drafts' },
    (b) => b.task('draft', draft, { resultPath: '$.draft' }),
  )
  .approval('review', { gate: 'review', timeoutSeconds: 7 * 24 * 3600, reviewerPath: '$.reviewerId', resultPath: '$.review' })
  .task('tidy', tidy, { input: { text: 'done' }, resultPath: '$.tidy' })
  .build();

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

/** Props over the defaults below; a prop given as `undefined` removes the default (as a JavaScript caller may). */
type PropsOver = { [K in keyof BatonStateMachineProps]?: BatonStateMachineProps[K] | undefined } & Pick<BatonStateMachineProps, 'pipeline'>;

function synth(props: PropsOver): {
  template: Template;
  construct: BatonStateMachine;
  stack: Stack;
} {
  const app = new App();
  const stack = new Stack(app, 'Baton', { env: { account: '123456789012', region: 'eu-west-1' } });
  const databaseSecret = Secret.fromSecretCompleteArn(stack, 'Db', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:baton-db-AbCdEf');
  const construct = new BatonStateMachine(stack, 'Pipeline', {
    stageEntry: () => '',
    code: inline,
    registry: { databaseSecret },
    model: { provider: 'bedrock', modelId: MODEL },
    dashboardUrl: 'https://baton.example.com',
    ...props,
  } as BatonStateMachineProps);
  app.synth();
  return { template: Template.fromStack(stack), construct, stack };
}

/** Every statement of the policies attached to the role whose logical id matches. */
function statementsOf(template: Template, role: RegExp): Statement[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as {
    Properties: { Roles: { Ref: string }[]; PolicyDocument: { Statement: Statement[] } };
  }[];
  return policies.filter((p) => p.Properties.Roles.some((r) => role.test(r.Ref))).flatMap((p) => p.Properties.PolicyDocument.Statement);
}
const actions = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const allActions = (ss: Statement[]): string[] => ss.flatMap(actions).sort();
const definitionOf = (template: Template): { States: Record<string, Record<string, unknown>>; TimeoutSeconds?: number } => {
  const sm = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] as { Properties: { DefinitionString: string } };
  return JSON.parse(sm.Properties.DefinitionString) as { States: Record<string, Record<string, unknown>>; TimeoutSeconds?: number };
};

describe('BatonStateMachine (offline cdk synth)', { timeout: 120_000 }, () => {
  it('model stages get their model from the environment and Bedrock on exactly the configured model; other stages get neither', () => {
    const { template } = synth({ pipeline: reviewed });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ BATON_STAGE: 'draft', BATON_MODEL_PROVIDER: 'bedrock', BATON_MODEL_ID: MODEL, BATON_PIPELINE: 'reviewed' }),
      },
    });
    const tidyFn = Object.values(template.findResources('AWS::Lambda::Function')).find((f) => JSON.stringify(f).includes('"BATON_STAGE":"tidy"'))!;
    expect(JSON.stringify(tidyFn)).not.toMatch(/BATON_MODEL/);
    const draftStatements = statementsOf(template, /Fndraft/);
    expect(allActions(draftStatements)).toEqual(
      [
        'bedrock:InvokeModel',
        'bedrock:InvokeModelWithResponseStream',
        's3:GetObject',
        's3:ListBucket',
        's3:PutObject',
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ].sort(),
    );
    const bedrock = draftStatements.find((s) => actions(s).includes('bedrock:InvokeModel'))!;
    expect(bedrock.Resource).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:bedrock:eu-west-1::foundation-model/${MODEL}`]] });
    expect(allActions(statementsOf(template, /Fntidy/))).not.toContain('bedrock:InvokeModel');
    // X-Ray's PutTraceSegments is the only action on "*"
    for (const s of [...draftStatements, ...statementsOf(template, /Fntidy/)].filter((x) => x.Resource === '*'))
      expect(actions(s).every((a) => a.startsWith('xray:'))).toBe(true);
  });

  it('an inference profile is granted with its foundation model in each region it routes to; an OpenAI-compatible model reads only its key', () => {
    const profile = synth({
      pipeline: reviewed,
      model: { provider: 'bedrock', inferenceProfile: `eu.${MODEL}`, foundationModelId: MODEL, regions: ['eu-west-1', 'eu-central-1'] },
    });
    const bedrock = statementsOf(profile.template, /Fndraft/).find((s) => actions(s).includes('bedrock:InvokeModel'))!;
    expect(JSON.stringify(bedrock.Resource)).toContain(`:bedrock:eu-west-1:123456789012:inference-profile/eu.${MODEL}`);
    expect(JSON.stringify(bedrock.Resource)).toContain(`:bedrock:eu-central-1::foundation-model/${MODEL}`);
    expect((bedrock.Resource as unknown[]).length).toBe(3);

    const app = new App();
    const stack = new Stack(app, 'Oai', { env: { account: '123456789012', region: 'eu-west-1' } });
    const key = Secret.fromSecretCompleteArn(stack, 'Key', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:openai-key-XyZ123');
    const db = Secret.fromSecretCompleteArn(stack, 'Db', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:baton-db-AbCdEf');
    new BatonStateMachine(stack, 'Pipeline', {
      pipeline: reviewed,
      stageEntry: () => '',
      code: inline,
      registry: { databaseSecret: db },
      dashboardUrl: 'https://baton.example.com',
      models: { draft: { provider: 'openai-compatible', baseUrl: 'https://llm.internal/v1', model: 'llama3.1', apiKeySecret: key } },
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          BATON_MODEL_PROVIDER: 'openai-compatible',
          BATON_OPENAI_BASE_URL: 'https://llm.internal/v1',
          BATON_OPENAI_KEY_SECRET_ARN: key.secretArn,
        }),
      },
    });
    const readers = (arn: string) =>
      Object.entries(template.findResources('AWS::IAM::Policy'))
        .filter(([, p]) => JSON.stringify(p).includes(arn))
        .map(([id]) => id);
    expect(readers('openai-key-XyZ123')).toEqual([expect.stringMatching(/Fndraft/)]);
    expect(JSON.stringify(template.toJSON())).not.toMatch(/bedrock:/);
  });

  it('refuses to synthesize a model stage without a model, and approval gates without a registry, saying what to set', () => {
    expect(() => synth({ pipeline: reviewed, model: undefined })).toThrow(/stage "draft" calls a model .*props\.model .*props\.models\["draft"\]/);
    expect(() => synth({ pipeline: reviewed, registry: undefined })).toThrow(/approval gates: pass registry: \{ databaseSecret \}/);
    expect(() => synth({ pipeline: reviewed, models: { nope: { provider: 'bedrock', modelId: MODEL } } })).toThrow(/no stage "nope"/);
    expect(() => synth({ pipeline: reviewed, dashboardUrl: undefined })).toThrow(/pass dashboardUrl, the base URL of the review links/);
    expect(() => synth({ pipeline: reviewed, dashboardUrl: undefined, reviewNotifier: { kind: 'none' } })).not.toThrow();
  });

  it("model tasks retry as the reference design says by default (2 s, x2, 5 retries, FULL jitter), configurable; the review gate retries Lambda's own errors", () => {
    const retrierOf = (template: Template) => {
      const map = definitionOf(template).States.drafts as { ItemProcessor: { States: Record<string, { Retry: Record<string, unknown>[] }> } };
      return map.ItemProcessor.States.draft!.Retry.find((r) => (r.ErrorEquals as string[]).includes('ThrottlingException'));
    };
    expect(retrierOf(synth({ pipeline: reviewed }).template)).toEqual({
      ErrorEquals: ['ThrottlingException', 'ModelErrorException', 'ServiceUnavailableException'],
      IntervalSeconds: 2,
      BackoffRate: 2,
      MaxAttempts: 5,
      MaxDelaySeconds: 60,
      JitterStrategy: 'FULL',
    });
    const custom = synth({
      pipeline: reviewed,
      modelRetry: [{ errors: ['ThrottlingException'], intervalMs: 5000, backoffRate: 3, maxAttempts: 8, jitter: 'FULL', maxDelayMs: 120_000 }],
    });
    expect(retrierOf(custom.template)).toMatchObject({
      ErrorEquals: ['ThrottlingException'],
      IntervalSeconds: 5,
      BackoffRate: 3,
      MaxAttempts: 8,
      MaxDelaySeconds: 120,
    });
    const gate = definitionOf(synth({ pipeline: reviewed }).template).States.review as { Retry?: { ErrorEquals: string[] }[] };
    expect(gate.Retry?.some((r) => r.ErrorEquals.includes('Lambda.ServiceException'))).toBe(true);
  });

  it('the registry secret is read by the functions that write the registry and by nothing else', () => {
    const { template } = synth({ pipeline: reviewed });
    const readers = Object.entries(template.findResources('AWS::IAM::Policy'))
      .filter(([, p]) => JSON.stringify(p).includes('baton-db-AbCdEf'))
      .map(([id]) => id.replace(/Pipeline|ServiceRoleDefaultPolicy[0-9A-F]*$/g, ''))
      .sort();
    expect(readers).toEqual(['Fndraft', 'Fnregistrywriter', 'Fnreviewgate', 'Fntidy']);
    for (const [, p] of Object.entries(template.findResources('AWS::IAM::Policy')).filter(([, p]) => JSON.stringify(p).includes('baton-db-AbCdEf'))) {
      const secretStatements = (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement.filter((s) =>
        JSON.stringify(s).includes('baton-db'),
      );
      expect(secretStatements.flatMap(actions).sort()).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
    }
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ BATON_DATABASE_SECRET_ARN: Match.stringLikeRegexp('baton-db-AbCdEf') }) },
    });
  });

  it('the review gate records in the registry and publishes on the review topic only; the notice link points at the dashboard', () => {
    const { template } = synth({ pipeline: reviewed });
    const gate = statementsOf(template, /Fnreviewgate/);
    expect(allActions(gate)).toEqual(
      ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'sns:Publish', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments'].sort(),
    );
    expect(JSON.stringify(gate.find((s) => actions(s).includes('sns:Publish'))!.Resource)).toMatch(/^\{"Ref":"PipelineReviewRequests[0-9A-F]+"\}$/);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          BATON_REVIEW_NOTIFIER: 'sns',
          BATON_REVIEW_TOPIC_ARN: { Ref: Match.stringLikeRegexp('ReviewRequests') },
          BATON_DASHBOARD_URL: 'https://baton.example.com',
        }),
      },
    });
    template.hasOutput('*', { Value: { Ref: Match.stringLikeRegexp('ReviewRequests') } });
    const bus = synth({ pipeline: reviewed, reviewNotifier: { kind: 'eventbridge' } }).template;
    bus.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ BATON_REVIEW_NOTIFIER: 'eventbridge', BATON_REVIEW_EVENT_BUS: 'default' }) },
    });
    expect(allActions(statementsOf(bus, /Fnreviewgate/))).toContain('events:PutEvents');
    expect(allActions(statementsOf(bus, /Fnreviewgate/))).not.toContain('sns:Publish');
  });

  it('the registry writer hears every status change of this machine and may describe only its executions', () => {
    const { template } = synth({ pipeline: reviewed });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: { stateMachineArn: [{ Ref: Match.stringLikeRegexp('StateMachine') }] },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('Fnregistrywriter'), 'Arn'] },
          DeadLetterConfig: Match.anyValue(),
          RetryPolicy: Match.anyValue(),
        }),
      ],
    });
    const writer = statementsOf(template, /Fnregistrywriter/);
    expect(allActions(writer)).toEqual(
      [
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
        'states:DescribeExecution',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ].sort(),
    );
    expect(JSON.stringify(writer.find((s) => actions(s).includes('states:DescribeExecution'))!.Resource)).toContain(':execution:reviewed:*');
  });

  it('failed runs go to the dead-letter queue from their status change, sent by the dead-letter function only; the machine keeps no route of its own', () => {
    const { template } = synth({ pipeline: reviewed });
    template.resourceCountIs('AWS::SQS::Queue', 2); // dead letters, undelivered status events
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    const senders = Object.entries(template.findResources('AWS::IAM::Policy'))
      .filter(([, p]) => JSON.stringify(p).includes('sqs:SendMessage'))
      .map(([id]) => id);
    expect(senders).toEqual([expect.stringMatching(/Fndeadletter/)]);
    const statements = statementsOf(template, /Fndeadletter/);
    expect(allActions(statements)).toEqual(['sqs:SendMessage', 'states:GetExecutionHistory', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments'].sort());
    expect(JSON.stringify(statements.find((s) => actions(s).includes('sqs:SendMessage'))!.Resource)).toMatch(/DeadLetters/);
    expect(JSON.stringify(statements.find((s) => actions(s).includes('states:GetExecutionHistory'))!.Resource)).toContain(':execution:reviewed:*');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ BATON_DEAD_LETTER_QUEUE_URL: { Ref: Match.stringLikeRegexp('DeadLetters') } }) },
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: { stateMachineArn: [{ Ref: Match.stringLikeRegexp('StateMachine') }], status: ['FAILED', 'TIMED_OUT', 'ABORTED'] },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('Fndeadletter'), 'Arn'] }, DeadLetterConfig: Match.anyValue() })],
    });
    // the execution fails where its error happened, so RedriveExecution resumes it there
    const definition = definitionOf(template);
    expect(Object.keys(definition.States).filter((n) => n.startsWith('Baton.'))).toEqual([]);
    expect(allActions(statementsOf(template, /StateMachineRole/))).not.toContain('sqs:SendMessage');
  });

  it('the machine calls published versions of its functions (qualified ARNs, never $LATEST), and a deploy of new stage code publishes a new one', () => {
    const { template } = synth({ pipeline: reviewed });
    const versions = template.findResources('AWS::Lambda::Version');
    const sm = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] as {
      Properties: { DefinitionSubstitutions: Record<string, unknown> };
    };
    const subs = sm.Properties.DefinitionSubstitutions;
    expect(Object.keys(subs).sort()).toEqual(['fn_draft', 'fn_review_gate', 'fn_tidy']);
    // a Version's Ref is its qualified ARN; old versions are retained for executions in flight
    for (const value of Object.values(subs)) {
      const ref = (value as { Ref?: string }).Ref;
      expect(ref && versions[ref]).toMatchObject({ Type: 'AWS::Lambda::Version', DeletionPolicy: 'Retain' });
    }
    const versionOf = (code: string): unknown => {
      const { template: t } = synth({
        pipeline: reviewed,
        code: (name) => lambda.Code.fromInline(name === 'draft' ? code : 'exports.handler = async (e) => e;'),
      });
      return (Object.values(t.findResources('AWS::StepFunctions::StateMachine'))[0] as { Properties: { DefinitionSubstitutions: Record<string, unknown> } })
        .Properties.DefinitionSubstitutions.fn_draft;
    };
    const before = versionOf('exports.handler = async (e) => e;');
    expect(versionOf('exports.handler = async (e) => e;')).toEqual(before);
    expect(versionOf('exports.handler = async (e) => ({ ...e, fixed: true });')).not.toEqual(before);
  });

  it('publishes a state machine version per definition revision and an alias per pipeline version, both retained; runs start on the alias', () => {
    const { template, construct } = synth({ pipeline: reviewed });
    const smId = Object.keys(template.findResources('AWS::StepFunctions::StateMachine'))[0]!;
    const versions = template.findResources('AWS::StepFunctions::StateMachineVersion');
    expect(Object.values(versions)).toEqual([
      expect.objectContaining({
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        // a new revision (any change of the definition) replaces the resource: a new version, the old one kept
        Properties: expect.objectContaining({ StateMachineArn: { Ref: smId }, StateMachineRevisionId: { 'Fn::GetAtt': [smId, 'StateMachineRevisionId'] } }),
      }),
    ]);
    const versionId = Object.keys(versions)[0]!;
    const aliases = template.findResources('AWS::StepFunctions::StateMachineAlias');
    expect(Object.keys(aliases)).toEqual([expect.stringMatching(/AliasV1/)]);
    expect(Object.values(aliases)[0]).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: { Name: 'v1', RoutingConfiguration: [{ StateMachineVersionArn: { 'Fn::GetAtt': [versionId, 'Arn'] }, Weight: 100 }] },
    });
    const outputs = template.findOutputs('*');
    expect(Object.entries(outputs).find(([k]) => k.includes('StateMachineAliasArn'))?.[1]).toMatchObject({
      Value: { 'Fn::GetAtt': [Object.keys(aliases)[0], 'Arn'] },
    });
    expect(Stack.of(construct).resolve(construct.aliasArn)).toEqual({ 'Fn::GetAtt': [Object.keys(aliases)[0], 'Arn'] });
    // another pipeline version is another alias (the old one, retained, keeps routing to its last version)
    const v2 = definePipeline({
      name: 'reviewed',
      version: 2,
      input: z.object({ texts: z.array(z.string()), reviewerId: z.string().nullable().default(null) }),
    })
      .task('tidy', tidy, { input: { text: 'v2' }, resultPath: '$.tidy' })
      .build();
    const next = synth({ pipeline: v2 }).template;
    expect(
      Object.values(next.findResources('AWS::StepFunctions::StateMachineAlias')).map((a) => (a as { Properties: { Name: string } }).Properties.Name),
    ).toEqual(['v2']);
  });

  it('logs level ALL without execution data by default, X-Ray on, an execution timeout of a day plus the review gates', () => {
    const { template, construct } = synth({ pipeline: reviewed });
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'reviewed',
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false, Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: Match.anyValue() } }] },
      TracingConfiguration: { Enabled: true },
    });
    expect(definitionOf(template).TimeoutSeconds).toBe(86_400 + 7 * 24 * 3600);
    expect(definitionOf(template)).toEqual(construct.compiled.definition);
    template.allResourcesProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: { LogGroup: Match.anyValue() },
    });
    // one log group per function (2 stages, review gate, registry writer, dead letters) plus the execution log, all with a retention
    template.resourceCountIs('AWS::Logs::LogGroup', 5 + 1);
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    const data = synth({ pipeline: reviewed, includeExecutionData: true, xray: false, timeout: Duration.days(10) }).template;
    data.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      LoggingConfiguration: Match.objectLike({ IncludeExecutionData: true }),
      TracingConfiguration: { Enabled: false },
    });
    expect(definitionOf(data).TimeoutSeconds).toBe(10 * 86_400);
  });

  it('alarms per failure class, each to its own topic, and on executions failed, timed out, throttled', () => {
    const { template } = synth({ pipeline: reviewed });
    template.resourceCountIs('AWS::CloudWatch::Alarm', 5 + 3 + 3);
    template.resourceCountIs('AWS::SNS::Topic', 6 + 1); // 5 classes + operations, review requests
    for (const c of ['model', 'validation', 'safety', 'assembly', 'infrastructure']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Metrics: Match.arrayWith([
          Match.objectLike({
            MetricStat: Match.objectLike({
              Metric: {
                Namespace: 'Baton',
                MetricName: 'FailedSteps',
                Dimensions: Match.arrayWith([
                  { Name: 'FailureClass', Value: c },
                  { Name: 'Pipeline', Value: 'reviewed' },
                ]),
              },
            }),
          }),
        ]),
        AlarmActions: [{ Ref: Match.stringLikeRegexp(`Topic${c}`) }],
      });
    }
    for (const m of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionThrottled']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: m,
        Namespace: 'AWS/States',
        AlarmActions: [{ Ref: Match.stringLikeRegexp('Topicoperations') }],
      });
    }
  });

  it('least privilege: the state machine role may invoke exactly its own functions', () => {
    const { template } = synth({ pipeline: kit('kit-exhausted'), registry: undefined });
    const statements = statementsOf(template, /StateMachineRole/);
    const invoke = statements.filter((s) => actions(s).includes('lambda:InvokeFunction'));
    const resources = JSON.stringify(invoke.map((s) => s.Resource));
    expect(resources).toMatch(/Fnkitflaky/);
    expect(resources).toMatch(/Fnkithandler/);
    expect(resources).not.toContain('"*"');
    // wildcards only where AWS grants nothing narrower: vended log delivery and X-Ray
    for (const s of statements.filter((x) => x.Resource === '*')) expect(actions(s).every((a) => a.startsWith('logs:') || a.startsWith('xray:'))).toBe(true);
    const fn = statementsOf(template, /Fnkitflaky/);
    expect(allActions(fn)).toEqual(['s3:GetObject', 's3:ListBucket', 's3:PutObject', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments'].sort());
  });

  it('EXPRESS without approvals; DISTRIBUTED maps may start only their own executions', () => {
    const { template } = synth({ pipeline: kit('kit-scale'), type: 'EXPRESS', registry: undefined });
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', { StateMachineType: 'EXPRESS' });
    expect(definitionOf(template).TimeoutSeconds).toBe(300);
    expect(() => synth({ pipeline: kit('kit-approval'), type: 'EXPRESS' })).toThrow(/waitForTaskToken/);
    const big = synth({ pipeline: kit('kit-scale'), compile: { expectedItems: { items: 5000 } }, registry: undefined }).template;
    const policies = JSON.stringify(big.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('states:StartExecution');
    expect(policies).toMatch(/stateMachine:kit-scale/);
  });

  it('model budgets: one on-demand table with TTL, read and written by the model stages only (GetItem, UpdateItem on its ARN), the budget retrier first; cfn-lint clean', () => {
    const budgets = { [MODEL]: { requestsPerMinute: 400, tokensPerMinute: 400_000, maxInFlight: 32 } };
    const { template, construct } = synth({ pipeline: reviewed, modelBudgets: budgets });
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    const tableRef = { Ref: Match.stringLikeRegexp('ModelBudgets') };
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ BATON_STAGE: 'draft', BATON_MODEL_BUDGETS_TABLE: tableRef, BATON_MODEL_BUDGETS: JSON.stringify(budgets) }) },
      // the stage's 300 s, 2 s to report, 300 s to wait for budget
      Timeout: 602,
    });
    const tidyFn = Object.values(template.findResources('AWS::Lambda::Function')).find((f) => JSON.stringify(f).includes('"BATON_STAGE":"tidy"'))!;
    expect(JSON.stringify(tidyFn)).not.toMatch(/BATON_MODEL_BUDGETS/);
    const dynamo = statementsOf(template, /Fndraft/).filter((s) => actions(s).some((a) => a.startsWith('dynamodb:')));
    expect(dynamo).toHaveLength(1);
    expect(actions(dynamo[0]!).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    expect(dynamo[0]!.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/ModelBudgets/), 'Arn'] });
    const grantees = Object.entries(template.findResources('AWS::IAM::Policy'))
      .filter(([, p]) => JSON.stringify(p).includes('dynamodb:'))
      .map(([id]) => id);
    expect(grantees).toEqual([expect.stringMatching(/Fndraft/)]);
    expect(construct.modelBudgetTable).toBeDefined();
    const map = definitionOf(template).States.drafts as { ItemProcessor: { States: Record<string, { Retry: Record<string, unknown>[] }> } };
    // after the retrier of Lambda's own service errors, the budget retrier, then the model retry policy (counted apart)
    const stageRetriers = map.ItemProcessor.States.draft!.Retry.filter((r) => !(r.ErrorEquals as string[])[0]!.startsWith('Lambda.'));
    expect(stageRetriers.map((r) => r.ErrorEquals)).toEqual([
      ['ModelBudgetUnavailable'],
      ['ThrottlingException', 'ModelErrorException', 'ServiceUnavailableException'],
    ]);
    expect(stageRetriers[0]).toMatchObject({ MaxAttempts: 50, JitterStrategy: 'FULL', MaxDelaySeconds: 30 });
    expect(stageRetriers[1]).toMatchObject({ MaxAttempts: 5 });

    const dir = mkdtempSync(join(tmpdir(), 'baton-budgets-'));
    try {
      const file = join(dir, 'budgets.template.json');
      writeFileSync(file, JSON.stringify(template.toJSON()));
      expect(
        cfnLint([file])
          .filter((f) => f.Level === 'Error')
          .map((e) => `${e.Rule.Id} ${e.Message}`),
      ).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses model budgets of a model no stage calls, or of zero', () => {
    expect(() => synth({ pipeline: reviewed, modelBudgets: { 'anthropic.claude-typo': { requestsPerMinute: 10 } } })).toThrow(
      /modelBudgets\["anthropic.claude-typo"\]: no stage calls that model/,
    );
    expect(() => synth({ pipeline: reviewed, modelBudgets: { [MODEL]: { requestsPerMinute: 0 } } })).toThrow(/requestsPerMinute must be a positive number/);
    // without budgets: no table, no budget retrier
    expect(synth({ pipeline: reviewed }).template.findResources('AWS::DynamoDB::Table')).toEqual({});
  });

  it('model prices: the model stages get BATON_MODEL_PRICES (their cost in the registry), the others nothing; a model without a price fails synthesis', () => {
    const prices = { [MODEL]: { inputPer1M: 0.8, outputPer1M: 4 } };
    const { template } = synth({ pipeline: reviewed, modelPrices: prices });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ BATON_STAGE: 'draft', BATON_MODEL_PRICES: JSON.stringify(prices) }) },
    });
    const tidyFn = Object.values(template.findResources('AWS::Lambda::Function')).find((f) => JSON.stringify(f).includes('"BATON_STAGE":"tidy"'))!;
    expect(JSON.stringify(tidyFn)).not.toMatch(/BATON_MODEL_PRICES/);
    expect(() => synth({ pipeline: reviewed, modelPrices: { 'anthropic.claude-typo': { inputPer1M: 1, outputPer1M: 1 } } })).toThrow(
      /modelPrices \(stage "draft"\): the price table has no price for model/,
    );
    expect(() => synth({ pipeline: reviewed, modelPrices: { [MODEL]: { inputPer1M: -1, outputPer1M: 4 } } })).toThrow(/modelPrices/);
  });

  it('bundles stage Lambdas with esbuild when no prebuilt code is given', () => {
    const app = new App();
    const stack = new Stack(app, 'Bundled', { env: { account: '123456789012', region: 'eu-west-1' } });
    const entry = fileURLToPath(new URL('./fixtures/stage.ts', import.meta.url));
    new BatonStateMachine(stack, 'Pipeline', { pipeline: kit('kit-sequence'), stageEntry: () => entry, deadLetterEntry: entry });
    const assembly = app.synth();
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Function', 2); // the stage, the dead letters
    template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.handler', Code: { S3Key: Match.stringLikeRegexp('\\.zip$') } });
    expect(assembly.artifacts.length).toBeGreaterThan(0);
  }, 120_000);
});
