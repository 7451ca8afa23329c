import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { AnyPipeline, ModelBudgets, PriceTable, RetryPolicy } from '@baton/core';
import { compileToAsl } from '../compile/compile.js';
import { approvalTimeouts, deployedCompileOptions } from '../compile/deployed.js';
import type { CompileOptions, CompiledMachine, WorkflowType } from '../compile/types.js';
import { EXECUTION_STATUS_CHANGE } from '../lambda/status-event.js';
import { BatonAlarms, type AlarmFailureClass, type AlarmTopicName } from './alarms.js';
import { grantModel, modelEnvironment, modelsOfStages, type ModelConfig } from './model.js';
import { copyUnbundled, unbundledPackageDir } from './unbundled.js';
import { grantModelBudgets, modelBudgetTable, modelPricesEnvironment, timeoutWithBudgetWait } from './model-budgets.js';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { grantNotify, reviewNotifierResources, type ReviewNotifierConfig } from './notifier.js';

/** Props of {@link BatonStateMachine}. */
export interface BatonStateMachineProps {
  pipeline: AnyPipeline;
  /** @default 'STANDARD' */
  type?: WorkflowType;
  /** Entry file (TypeScript or JavaScript) of each stage's Lambda, exporting `handler` (`createStageLambda` of `@baton/aws-runtime`). */
  stageEntry: (stage: string) => string;
  /** Entry file of the review-gate Lambda (`createReviewGateLambda`); required when the pipeline has approval gates. */
  reviewGateEntry?: string;
  /** Entry file of the registry-writer Lambda (`createRegistryWriterLambda`); required with `registry`. */
  registryWriterEntry?: string;
  /** Entry file of the dead-letter Lambda (`createDeadLetterLambda`). */
  deadLetterEntry?: string;
  /** Prebuilt code instead of esbuild bundling (tests, CI artefacts), by function name: a stage name, `review-gate`, `registry-writer` or `dead-letter`. */
  code?: (name: string) => lambda.Code;
  /** The model of every stage that calls one (`usesModel`), unless `models` names the stage. Synthesis fails when a model stage has none. */
  model?: ModelConfig;
  /** Per-stage models, by stage name. */
  models?: Record<string, ModelConfig>;
  /**
   * Retry policy of the tasks of model stages: `'stage'` keeps each stage's own.
   * @default {@link DEFAULT_MODEL_RETRY} (throttling, model errors, unavailability: 2 s, ×2, 5 retries, FULL jitter)
   */
  modelRetry?: RetryPolicy[] | 'stage';
  /**
   * Model budgets every stage function shares, by model id (the configured `modelId`, inference
   * profile or OpenAI-compatible `model`): requests and tokens per window, calls in flight. Creates
   * the limiter's DynamoDB table (on demand, TTL), gives the model stages `BATON_MODEL_BUDGETS_*`
   * and `dynamodb:GetItem` / `UpdateItem` on that table only, adds `modelBudgetWait` to their
   * Lambda timeout, and puts `MODEL_BUDGET_RETRY` first in their retriers.
   */
  modelBudgets?: ModelBudgets;
  /**
   * Token prices by model id: the model stages get `BATON_MODEL_PRICES`, so each attempt's
   * metrics carry its cost and the registry (and dashboard) the run's. Every model a stage calls
   * must be priced (checked at synthesis).
   */
  modelPrices?: PriceTable;
  /** Lambda time a model stage may spend waiting for budget, beyond its stage's timeout (15 minutes in all at most). @default 5 minutes */
  modelBudgetWait?: Duration;
  /**
   * The run registry's PostgreSQL: a Secrets Manager secret holding its `postgres://` URL or the
   * RDS JSON (host, port, username, password, dbname). Read by the functions that write the
   * registry and by nobody else: the stage functions (attempts, steps), the review gate (pending
   * reviews) and the registry writer (run start and end, from status-change events). Required when
   * the pipeline has approval gates. Give the functions network access to it with `functionProps`
   * (`vpc`, `securityGroups`).
   */
  registry?: { databaseSecret: secretsmanager.ISecret };
  /** How reviewers hear of a review. @default `{ kind: 'sns' }` (a topic is created) */
  reviewNotifier?: ReviewNotifierConfig;
  /** Base URL of the Baton dashboard; review notices carry `<dashboardUrl>/reviews/<run>/<gate>?token=…`. */
  dashboardUrl?: string;
  /** Queue receiving every failed run's context. @default one is created (SSE, 14 days) */
  deadLetterQueue?: sqs.IQueue;
  /** CloudWatch alarms (see {@link BatonAlarms}); `false` for none. @default one topic per failure class plus `operations` */
  alarms?: false | { topics?: Partial<Record<AlarmTopicName, sns.ITopic>>; thresholds?: Partial<Record<AlarmFailureClass, number>> };
  /** Execution-level timeout. @default one day plus the timeouts of the approval gates (STANDARD); 5 minutes (EXPRESS) */
  timeout?: Duration;
  /** Active X-Ray tracing on the state machine and the functions. @default true */
  xray?: boolean;
  /** Log execution data (inputs and outputs of every state) with the level-ALL execution log. @default false */
  includeExecutionData?: boolean;
  /** Claim-check bucket; one is created when omitted. */
  blobBucket?: s3.IBucket;
  /** Retention of the execution log group and of every function's log group. @default one month */
  logRetention?: logs.RetentionDays;
  /** Compiler options besides those the construct sets. */
  compile?: Omit<CompileOptions, 'type' | 'functionArn' | 'reviewFunctionArn' | 'timeoutSeconds'>;
  /** Extra props of every function (memory, VPC…). */
  functionProps?: Partial<NodejsFunctionProps>;
}

/**
 * Deploys a Baton pipeline as the production system of the reference design: one Lambda per stage
 * (its model client and Bedrock permission on exactly the configured model when the stage calls
 * one), the review gate recording pending reviews in the registry and notifying the reviewer, a
 * registry writer fed by the execution status-change events, a dead-letter queue receiving every
 * failed run's context (from its status change, so RedriveExecution still resumes it), CloudWatch alarms per failure class, a level-ALL execution log, X-Ray, an
 * execution timeout, and least-privilege IAM: each role may do exactly what its function does.
 *
 * @example
 * ```ts
 * new BatonStateMachine(stack, 'Report', {
 *   pipeline: reportPipeline,
 *   stageEntry: () => 'handlers/stage.ts', reviewGateEntry: 'handlers/review-gate.ts',
 *   registryWriterEntry: 'handlers/registry-writer.ts', deadLetterEntry: 'handlers/dead-letter.ts',
 *   model: { provider: 'bedrock', modelId: 'anthropic.claude-3-5-haiku-20241022-v1:0' },
 *   registry: { databaseSecret: Secret.fromSecretCompleteArn(stack, 'Db', dbSecretArn) },
 *   dashboardUrl: 'https://baton.example.com',
 * });
 * ```
 */
export class BatonStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;
  /**
   * The state machine version this deploy published: a new one whenever the deploy changes the
   * definition (it follows the machine's revision id), older ones retained, so an execution started
   * on one, and Baton's replay of it, keep its definition and the Lambda versions it names.
   */
  readonly version: sfn.CfnStateMachineVersion;
  /**
   * The alias of this pipeline version, `v<pipeline version>`, routing to {@link version}: start runs
   * on {@link aliasArn} (`createStepFunctionsEngine({ stateMachineArn: aliasArn })`). A deploy of
   * the same pipeline version with new stage code moves it to the new state machine version; a
   * new pipeline version gets a new alias and the old one is retained where it points. Step
   * Functions records the version an execution started on, and the engine's replay starts there.
   */
  readonly alias: sfn.CfnStateMachineAlias;
  /** ARN of {@link alias}: what runs start on. */
  readonly aliasArn: string;
  /** Stage name → function. */
  readonly functions: Record<string, lambda.Function>;
  readonly reviewGate: lambda.Function | undefined;
  readonly registryWriter: lambda.Function | undefined;
  /** Sends each failed run's context to {@link deadLetterQueue}. */
  readonly deadLetter: lambda.Function;
  readonly logGroup: logs.LogGroup;
  readonly blobBucket: s3.IBucket;
  readonly deadLetterQueue: sqs.IQueue;
  readonly alarms: BatonAlarms | undefined;
  readonly compiled: CompiledMachine;
  /** The shared model limiter's table, with `modelBudgets`. */
  readonly modelBudgetTable: dynamodb.Table | undefined;

  constructor(scope: Construct, id: string, props: BatonStateMachineProps) {
    super(scope, id);
    const type = props.type ?? 'STANDARD';
    const pipeline = props.pipeline;
    const tracing = props.xray === false ? lambda.Tracing.DISABLED : lambda.Tracing.ACTIVE;
    const retention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const stages = [...pipeline.stages.values()];
    const models = modelsOfStages(stages, props.model, props.models);
    const approvals = approvalTimeouts(pipeline);
    if (approvals.length > 0 && !props.registry) {
      throw new Error(
        `pipeline "${pipeline.name}" has approval gates: pass registry: { databaseSecret } (pending reviews are kept in the registry's pending_review table; in a generated app: -c databaseSecretArn=<ARN>)`,
      );
    }
    const notifierConfig: ReviewNotifierConfig = props.reviewNotifier ?? { kind: 'sns' };
    if (approvals.length > 0 && notifierConfig.kind !== 'none' && !props.dashboardUrl) {
      throw new Error(
        `pipeline "${pipeline.name}" has approval gates: pass dashboardUrl, the base URL of the review links in notices (in a generated app: -c dashboardUrl=<url>), or reviewNotifier: { kind: 'none' }`,
      );
    }
    const secret = props.registry?.databaseSecret;
    // RDS certificates are in the Lambda runtime's CA bundle, which Node does not trust unless told
    const common = {
      BATON_PIPELINE: pipeline.name,
      ...(secret ? { BATON_DATABASE_SECRET_ARN: secret.secretArn, NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem' } : {}),
    };

    // aws-cdk-lib's classes declare optional members `T | undefined` where their interfaces say
    // `T`, so under exactOptionalPropertyTypes a Bucket is handed over as the IBucket it is
    this.blobBucket =
      props.blobBucket ??
      (new s3.Bucket(this, 'Blobs', {
        encryption: s3.BucketEncryption.S3_MANAGED,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        removalPolicy: RemovalPolicy.RETAIN,
      }) as s3.IBucket);
    const make = (
      name: string,
      entry: string | undefined,
      timeout: Duration,
      environment: Record<string, string>,
      unbundled: string[] = [],
    ): lambda.Function => {
      const logGroup = new logs.LogGroup(this, `Logs-${name}`, { retention, removalPolicy: RemovalPolicy.RETAIN });
      // each deploy that changes a function publishes a version of it; old versions are kept, so an
      // execution started before the deploy goes on calling the stage code it started with
      const currentVersionOptions = { removalPolicy: RemovalPolicy.RETAIN };
      const base = {
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.ARM_64,
        timeout,
        tracing,
        memorySize: 1024,
        logGroup,
        currentVersionOptions,
        environment: { ...common, ...environment },
      };
      if (props.code) return new lambda.Function(this, `Fn-${name}`, { ...base, handler: 'index.handler', code: props.code(name) });
      if (!entry) throw new Error(`function "${name}" needs an entry file (or pass code)`);
      const { environment: extraEnv, ...functionProps } = props.functionProps ?? {};
      // a stage's `unbundled` packages: out of its bundle, copied beside it (loaded on first use)
      const shipped = unbundled.map((pkg) => ({ name: pkg, dir: unbundledPackageDir(entry, pkg, name) }));
      return new NodejsFunction(this, `Fn-${name}`, {
        ...base,
        entry,
        handler: 'handler',
        bundling: {
          format: OutputFormat.ESM,
          target: 'node22',
          // cold starts load all of it: minified (a third of the size), class and function names
          // kept (error names, logs), and the source map (NODE_OPTIONS=--enable-source-maps) maps stacks back
          minify: true,
          keepNames: true,
          sourceMap: true,
          mainFields: ['module', 'main'],
          // CommonJS dependencies bundled into ESM still call require()
          banner: "import { createRequire as __batonCreateRequire } from 'node:module'; const require = __batonCreateRequire(import.meta.url);",
          ...(shipped.length > 0 ? { externalModules: ['@aws-sdk/*', ...unbundled], commandHooks: copyUnbundled(shipped) } : {}),
        },
        ...functionProps,
        environment: { ...base.environment, ...extraEnv },
      });
    };

    const budgets = props.modelBudgets ? modelBudgetTable(this, props.modelBudgets, models) : undefined;
    this.modelBudgetTable = budgets?.table;
    this.functions = {};
    for (const stage of stages) {
      const model = models.get(stage.name);
      const limited = model && budgets ? budgets : undefined;
      const env = { BATON_STAGE: stage.name, BATON_BUCKET: this.blobBucket.bucketName, ...(model ? modelEnvironment(model) : {}), ...limited?.environment };
      if (model && props.modelPrices) Object.assign(env, modelPricesEnvironment(props.modelPrices, stage.name, model));
      const seconds = Math.ceil((stage.timeoutMs ?? 300_000) / 1000) + 2;
      const fn = make(
        stage.name,
        props.stageEntry(stage.name),
        Duration.seconds(limited ? timeoutWithBudgetWait(seconds, props.modelBudgetWait) : seconds),
        env,
        stage.unbundled,
      );
      if (limited) grantModelBudgets(fn, limited.table as dynamodb.ITable);
      grantBlobs(fn, this.blobBucket);
      if (model) grantModel(this, fn, model);
      secret?.grantRead(fn);
      this.functions[stage.name] = fn;
    }

    const substitutions: Record<string, string> = {};
    const key = (name: string): string => `fn_${name.replace(/\W/g, '_')}`;
    // the machine calls published versions (qualified ARNs), never $LATEST: a definition and the
    // stage code it calls change together, in one deploy
    for (const [name, fn] of Object.entries(this.functions)) substitutions[key(name)] = fn.currentVersion.functionArn;
    if (approvals.length > 0) {
      const notifier = notifierConfig;
      const target = reviewNotifierResources(this, notifier);
      this.reviewGate = make(
        'review-gate',
        props.reviewGateEntry ?? (props.code ? undefined : missing('reviewGateEntry', pipeline.name)),
        Duration.seconds(30),
        {
          ...target.environment,
          ...(props.dashboardUrl ? { BATON_DASHBOARD_URL: props.dashboardUrl } : {}),
        },
      );
      secret?.grantRead(this.reviewGate);
      grantNotify(notifier, target, this.reviewGate);
      substitutions.fn_review_gate = this.reviewGate.currentVersion.functionArn;
      if (target.topic)
        new CfnOutput(this, 'ReviewTopicArn', { value: target.topic.topicArn, description: 'SNS topic of review notices: subscribe the reviewers' });
    } else this.reviewGate = undefined;

    this.deadLetterQueue =
      props.deadLetterQueue ??
      new sqs.Queue(this, 'DeadLetters', { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14) });
    const deployed = deployedCompileOptions(pipeline, {
      type,
      ...(props.timeout ? { timeoutSeconds: props.timeout.toSeconds() } : {}),
      ...(props.modelRetry ? { modelRetry: props.modelRetry } : {}),
      ...(props.modelBudgets ? { modelBudgets: true } : {}),
    });
    this.compiled = compileToAsl(pipeline, {
      ...props.compile,
      type,
      functionArn: (stage) => `\${${key(stage)}}`,
      reviewFunctionArn: '${fn_review_gate}',
      ...deployed,
      stageRetry: { ...props.compile?.stageRetry, ...deployed.stageRetry },
    });
    this.logGroup = new logs.LogGroup(this, 'Executions', { retention, removalPolicy: RemovalPolicy.RETAIN });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: pipeline.name,
      stateMachineType: type === 'EXPRESS' ? sfn.StateMachineType.EXPRESS : sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(JSON.stringify(this.compiled.definition)),
      definitionSubstitutions: substitutions,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: props.includeExecutionData ?? false },
      tracingEnabled: props.xray !== false,
    });
    for (const fn of [...Object.values(this.functions), ...(this.reviewGate ? [this.reviewGate] : [])]) fn.grantInvoke(this.stateMachine);
    // one version per definition revision and one alias per pipeline version, both retained: an
    // execution (and its replay past RedriveExecution's 14 days) runs the definition it started on
    this.version = new sfn.CfnStateMachineVersion(this, 'Version', {
      stateMachineArn: this.stateMachine.stateMachineArn,
      stateMachineRevisionId: this.stateMachine.stateMachineRevisionId,
      description: `Baton pipeline ${pipeline.name} version ${pipeline.ir.version}`,
    });
    this.alias = new sfn.CfnStateMachineAlias(this, `AliasV${pipeline.ir.version}`, {
      name: `v${pipeline.ir.version}`,
      description: `Baton pipeline ${pipeline.name} version ${pipeline.ir.version}: runs start here`,
      routingConfiguration: [{ stateMachineVersionArn: this.version.attrArn, weight: 100 }],
    });
    for (const resource of [this.version, this.alias]) resource.applyRemovalPolicy(RemovalPolicy.RETAIN);
    this.aliasArn = this.alias.attrArn;
    const stack = Stack.of(this);
    const executions = stack.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${pipeline.name}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    if (JSON.stringify(this.compiled.definition).includes('"DISTRIBUTED"')) {
      // a DISTRIBUTED map starts child executions of this very state machine
      const self = stack.formatArn({ service: 'states', resource: 'stateMachine', resourceName: pipeline.name, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
      // child executions of a run started on a version or alias start on it too
      this.stateMachine.addToRolePolicy(new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [self, `${self}:*`] }));
      this.stateMachine.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['states:DescribeExecution', 'states:StopExecution'], resources: [`${executions.replace(/:\*$/, '')}/*`] }),
      );
    }

    // status-change events the rules could not deliver to their function, kept for replay
    const undelivered = new sqs.Queue(this, 'StatusEventsUndelivered', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const statusRule = (id: string, description: string, fn: lambda.Function, statuses?: string[]): events.Rule =>
      new events.Rule(this, id, {
        description: `Baton ${pipeline.name}: ${description}`,
        eventPattern: {
          source: ['aws.states'],
          detailType: [EXECUTION_STATUS_CHANGE],
          detail: { stateMachineArn: [this.stateMachine.stateMachineArn], ...(statuses ? { status: statuses } : {}) },
        },
        targets: [new targets.LambdaFunction(fn, { retryAttempts: 185, maxEventAge: Duration.hours(24), deadLetterQueue: undelivered })],
      });
    if (secret) {
      this.registryWriter = make(
        'registry-writer',
        props.registryWriterEntry ?? (props.code ? undefined : missing('registryWriterEntry', pipeline.name)),
        Duration.seconds(30),
        {},
      );
      secret.grantRead(this.registryWriter);
      // an event leaves out an input or output over 256 KB: the writer reads it from the execution
      this.registryWriter.addToRolePolicy(new iam.PolicyStatement({ actions: ['states:DescribeExecution'], resources: [executions] }));
      statusRule('StatusChanges', 'execution status changes to the run registry', this.registryWriter);
    } else this.registryWriter = undefined;
    // Failed runs reach the queue from their status change, not from a Catch in the machine: the
    // execution then fails where its error happened, and RedriveExecution restarts it from there.
    this.deadLetter = make('dead-letter', props.deadLetterEntry ?? (props.code ? undefined : missing('deadLetterEntry', pipeline.name)), Duration.seconds(30), {
      BATON_DEAD_LETTER_QUEUE_URL: this.deadLetterQueue.queueUrl,
    });
    this.deadLetter.addToRolePolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.queueArn] }));
    this.deadLetterQueue.encryptionMasterKey?.grantEncrypt(this.deadLetter);
    // the failed step is read from the execution's history
    this.deadLetter.addToRolePolicy(new iam.PolicyStatement({ actions: ['states:GetExecutionHistory'], resources: [executions] }));
    statusRule('Failures', 'failed, timed-out and stopped executions to the dead-letter queue', this.deadLetter, ['FAILED', 'TIMED_OUT', 'ABORTED']);

    this.alarms =
      props.alarms === false
        ? undefined
        : new BatonAlarms(this, 'Alarms', {
            pipeline: pipeline.name,
            stateMachine: this.stateMachine,
            functions: [this.reviewGate, this.registryWriter, this.deadLetter].filter((f): f is lambda.Function => f !== undefined),
            ...(props.alarms?.topics ? { topics: props.alarms.topics } : {}),
            ...(props.alarms?.thresholds ? { thresholds: props.alarms.thresholds } : {}),
          });
    new CfnOutput(this, 'StateMachineArn', { value: this.stateMachine.stateMachineArn });
    new CfnOutput(this, 'StateMachineAliasArn', {
      value: this.aliasArn,
      description: `start runs here (pipeline ${pipeline.name} version ${pipeline.ir.version})`,
    });
    new CfnOutput(this, 'BlobBucketName', { value: this.blobBucket.bucketName });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.deadLetterQueue.queueUrl });
  }

  /** Lets a principal (CLI role, dashboard) answer review task tokens (SendTaskSuccess / Failure / Heartbeat) of this machine. */
  grantReview(grantee: iam.IGrantable): iam.Grant {
    return this.stateMachine.grantTaskResponse(grantee);
  }
}

/** What a stage function does with the claim-check bucket: read and write objects, list keys. */
function grantBlobs(fn: lambda.Function, bucket: s3.IBucket): void {
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject'], resources: [bucket.arnForObjects('*')] }));
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }));
  bucket.encryptionKey?.grantEncryptDecrypt(fn);
}

function missing(prop: string, pipeline: string): never {
  throw new Error(`pipeline "${pipeline}": pass ${prop} (the entry file of that function) or prebuilt code`);
}
