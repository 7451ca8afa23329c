import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateStateMachineAliasCommand, CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { FunctionSpec, StateMachineSpec } from './context.js';
import type { Credentials } from './sign.js';

/** Every service a function's SDK clients may call, each redirected with the SDK's own `AWS_ENDPOINT_URL_<SERVICE>`. */
const SERVICES = ['S3', 'SQS', 'SNS', 'SECRETS_MANAGER', 'EVENTBRIDGE', 'SFN', 'BEDROCK_RUNTIME', 'XRAY', 'STS', 'LAMBDA', 'CLOUDWATCH_LOGS'];

/**
 * A function's environment in the rehearsal: the template's variables (resolved), plus what
 * Lambda gives a function (region, its role's credentials) and every AWS endpoint pointed at the
 * rehearsal's gateway. Nothing Baton-specific: the deployed handlers read the same variables as on AWS.
 */
export function functionEnvironment(f: FunctionSpec, options: { region: string; gateway: string }): Record<string, string> {
  const env: Record<string, string> = {
    ...f.environment,
    AWS_REGION: options.region,
    AWS_DEFAULT_REGION: options.region,
    AWS_ACCESS_KEY_ID: f.role.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: f.role.credentials.secretAccessKey,
    AWS_ENDPOINT_URL: options.gateway,
  };
  for (const s of SERVICES) env[`AWS_ENDPOINT_URL_${s}`] = options.gateway;
  return env;
}

/** CreateStateMachine of each machine on the local Step Functions endpoint (through the gateway, as the admin); checks it got the ARN its Ref resolved to. */
export async function createStateMachines(machines: StateMachineSpec[], options: { endpoint: string; region: string; admin: Credentials }): Promise<void> {
  const sfn = new SFNClient({ endpoint: options.endpoint, region: options.region, credentials: options.admin });
  try {
    for (const m of machines) {
      const out = await sfn.send(
        new CreateStateMachineCommand({
          name: m.name,
          definition: m.definition,
          roleArn: m.role.roleArn,
          type: m.type,
          tracingConfiguration: { enabled: m.tracing },
          ...(m.published ? { publish: true } : {}),
        }),
      );
      if (out.stateMachineArn !== m.arn)
        throw new Error(`state machine ${m.logicalId}: the template resolved its ARN to ${m.arn}, the local endpoint made ${out.stateMachineArn}`);
      for (const name of m.aliases ?? []) {
        await sfn.send(
          new CreateStateMachineAliasCommand({ name, routingConfiguration: [{ stateMachineVersionArn: out.stateMachineVersionArn!, weight: 100 }] }),
        );
      }
    }
  } finally {
    sfn.destroy();
  }
}

/**
 * Invokes a function as an AWS service delivering to it (EventBridge, with a rule's key): throws
 * when the invocation is refused or the function fails, so the rule retries.
 */
export async function invokeAsService(lambdaUrl: string, region: string, credentials: Credentials, functionArn: string, payload: string): Promise<void> {
  const client = new LambdaClient({ endpoint: lambdaUrl, region, credentials });
  try {
    const out = await client.send(new InvokeCommand({ FunctionName: functionArn, Payload: Buffer.from(payload) }));
    if (out.FunctionError) {
      const body = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
      throw new Error(`${functionArn} failed (${out.FunctionError}): ${body.slice(0, 500)}`);
    }
  } finally {
    client.destroy();
  }
}
