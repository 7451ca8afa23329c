import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { AnyPipeline } from '@baton/core';
import { compileToAsl } from '../compile/compile.js';
import type { CompileOptions, CompiledMachine, WorkflowType } from '../compile/types.js';

/** Props of {@link BatonStateMachine}. */
export interface BatonStateMachineProps {
  pipeline: AnyPipeline;
  /** @default 'STANDARD' */
  type?: WorkflowType;
  /** Entry file (TypeScript or JavaScript) of each stage's Lambda, exporting `handler` (see `createStageHandler`). */
  stageEntry: (stage: string) => string;
  /** Entry file of the review-gate Lambda (see `createReviewGateHandler`); required when the pipeline has approval gates. */
  reviewGateEntry?: string;
  /** Prebuilt code instead of esbuild bundling (tests, CI artefacts). When set, entries are not bundled. */
  code?: (name: string) => lambda.Code;
  /** Active X-Ray tracing on the state machine and the functions. @default false */
  xray?: boolean;
  /** Claim-check bucket; one is created when omitted. */
  blobBucket?: s3.IBucket;
  /** Log retention of the execution log group. @default one month */
  logRetention?: logs.RetentionDays;
  /** Compiler options besides the type and function ARNs. */
  compile?: Omit<CompileOptions, 'type' | 'functionArn' | 'reviewFunctionArn'>;
  /** Extra props of every function (memory, environment, VPC…). */
  functionProps?: Partial<NodejsFunctionProps>;
}

/**
 * Deploys a Baton pipeline on AWS Step Functions: one Lambda per stage (bundled with esbuild),
 * the review-gate Lambda, the state machine built from the compiled ASL, a log group receiving
 * every event with execution data (level ALL), optional X-Ray, and least-privilege IAM: the state
 * machine's role may invoke only this pipeline's functions, each function gets only the
 * claim-check bucket.
 *
 * @example
 * ```ts
 * new BatonStateMachine(stack, 'Report', { pipeline: reportPipeline, stageEntry: (s) => `handlers/${s}.ts`, reviewGateEntry: 'handlers/review-gate.ts' });
 * ```
 */
export class BatonStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;
  /** Stage name -> function. */
  readonly functions: Record<string, lambda.Function>;
  readonly reviewGate: lambda.Function | undefined;
  readonly logGroup: logs.LogGroup;
  readonly blobBucket: s3.IBucket;
  readonly compiled: CompiledMachine;

  constructor(scope: Construct, id: string, props: BatonStateMachineProps) {
    super(scope, id);
    const type = props.type ?? 'STANDARD';
    const tracing = props.xray ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED;
    this.blobBucket =
      props.blobBucket ??
      new s3.Bucket(this, 'Blobs', { encryption: s3.BucketEncryption.S3_MANAGED, blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL, enforceSSL: true, removalPolicy: RemovalPolicy.RETAIN });
    const make = (name: string, entry: string, timeout: Duration, environment: Record<string, string>): lambda.Function => {
      const common = { runtime: lambda.Runtime.NODEJS_22_X, architecture: lambda.Architecture.ARM_64, timeout, tracing, memorySize: 1024, environment: { BATON_BUCKET: this.blobBucket.bucketName, ...environment } };
      if (props.code) return new lambda.Function(this, `Fn-${name}`, { ...common, handler: 'index.handler', code: props.code(name) });
      return new NodejsFunction(this, `Fn-${name}`, {
        ...common,
        entry,
        handler: 'handler',
        bundling: {
          format: OutputFormat.ESM,
          target: 'node22',
          sourceMap: true,
          mainFields: ['module', 'main'],
          // CommonJS dependencies bundled into ESM still call require()
          banner: "import { createRequire as __batonCreateRequire } from 'node:module'; const require = __batonCreateRequire(import.meta.url);",
        },
        ...props.functionProps,
      });
    };
    const stages = [...props.pipeline.stages.values()];
    this.functions = {};
    for (const stage of stages) {
      const fn = make(stage.name, props.stageEntry(stage.name), Duration.seconds(Math.ceil((stage.timeoutMs ?? 300_000) / 1000) + 2), { BATON_STAGE: stage.name });
      this.blobBucket.grantReadWrite(fn);
      this.functions[stage.name] = fn;
    }
    const substitutions: Record<string, string> = {};
    const key = (name: string): string => `fn_${name.replace(/\W/g, '_')}`;
    for (const [name, fn] of Object.entries(this.functions)) substitutions[key(name)] = fn.functionArn;
    const probe = compileToAsl(props.pipeline, { ...props.compile, type });
    const hasApproval = Object.values(probe.tasks).some((t) => t.kind === 'approval');
    if (hasApproval) {
      if (!props.reviewGateEntry && !props.code) throw new Error(`pipeline "${props.pipeline.name}" has approval gates: pass reviewGateEntry`);
      this.reviewGate = make('review-gate', props.reviewGateEntry ?? '', Duration.seconds(30), {});
      // pending reviews live next to the claim checks (createBlobReviewStore)
      this.blobBucket.grantReadWrite(this.reviewGate);
      substitutions.fn_review_gate = this.reviewGate.functionArn;
    } else this.reviewGate = undefined;
    this.compiled = compileToAsl(props.pipeline, {
      ...props.compile,
      type,
      functionArn: (stage) => `\${${key(stage)}}`,
      reviewFunctionArn: '${fn_review_gate}',
    });
    this.logGroup = new logs.LogGroup(this, 'Executions', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.RETAIN });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: props.pipeline.name,
      stateMachineType: type === 'EXPRESS' ? sfn.StateMachineType.EXPRESS : sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(JSON.stringify(this.compiled.definition)),
      definitionSubstitutions: substitutions,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: props.xray ?? false,
    });
    for (const fn of [...Object.values(this.functions), ...(this.reviewGate ? [this.reviewGate] : [])]) fn.grantInvoke(this.stateMachine);
    if (JSON.stringify(this.compiled.definition).includes('"DISTRIBUTED"')) {
      // a DISTRIBUTED map starts child executions of this very state machine
      const stack = Stack.of(this);
      const self = stack.formatArn({ service: 'states', resource: 'stateMachine', resourceName: props.pipeline.name, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
      const executions = stack.formatArn({ service: 'states', resource: 'execution', resourceName: `${props.pipeline.name}/*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
      this.stateMachine.addToRolePolicy(new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [self] }));
      this.stateMachine.addToRolePolicy(new iam.PolicyStatement({ actions: ['states:DescribeExecution', 'states:StopExecution'], resources: [executions] }));
    }
  }

  /** Lets a principal (CLI role, dashboard) answer review task tokens (SendTaskSuccess / Failure / Heartbeat) of this machine. */
  grantReview(grantee: iam.IGrantable): iam.Grant {
    return this.stateMachine.grantTaskResponse(grantee);
  }
}
