import { Command, InvalidArgumentError, Option } from 'commander';
import { resolve } from 'node:path';
import { auditCommand } from './commands/audit.js';
import { decideCommand, listCommand, redriveCommand, resumeCommand, statusCommand } from './commands/manage.js';
import { parseSectionFlag } from './section-flags.js';
import { refuseInapplicable } from './applicable.js';
import { compileCommand, type CompileCommandOptions } from './commands/compile.js';
import { dashboardCommand } from './commands/dashboard.js';
import { registryCommand } from './commands/registry.js';
import { rehearseCommand, type RehearseCommandOptions } from './commands/rehearse.js';
import { runCommand } from './commands/run.js';
import { workerCommand } from './commands/worker.js';
import { ENGINE_FACTORIES, WORKER_FACTORIES, type EngineConnection } from './engines.js';
import { RUN_EXIT_HELP, WORKER_EXIT_HELP } from './exit-codes.js';
import { DEFAULT_PIPELINES_MODULE, parsePipelineVersion } from './pipelines.js';
import { RUN_ID_HELP, parseRunIdOption } from './run-id.js';
import type { GlobalOptions } from './session.js';

const GLOBALS = ['stateDir', 'engine', 'pipelines', 'model', 'prices', 'faults', 'offlineLatency', 'emulate', 'logLevel', 'logFormat', 'databaseUrl'] as const;

/**
 * Builds the `baton` command line. `onExit` receives each command's exit code.
 *
 * @example
 * ```ts
 * await createProgram((code) => (process.exitCode = code)).parseAsync(process.argv);
 * ```
 */
export function createProgram(onExit: (code: number) => void): Command {
  const program = new Command('baton')
    .description('Run Baton pipelines: the same stages on the local engine, BullMQ, Temporal or Step Functions.')
    .addOption(new Option('--state-dir <dir>', 'where the local engine keeps journals, blobs and run notes').default('.baton'))
    .addOption(new Option('--engine <name>', `engine to run on (${Object.keys(ENGINE_FACTORIES).join(', ')})`).default('local'))
    .addOption(new Option('--pipelines <module>', 'package or built .js file exporting `pipelines`').default(DEFAULT_PIPELINES_MODULE))
    .addOption(new Option('--model <spec>', 'offline | bedrock:<modelId> | openai:<baseUrl>#<model>').default('offline'))
    .addOption(
      new Option(
        '--faults <list>',
        'offline model faults: throttle=a+b,invalid=c,persistent-invalid=d,offscript=e,throttle-rate=0.2,invalid-json-rate=0.1,seed=s',
      ),
    )
    .addOption(new Option('--offline-latency <ms>', 'simulated latency of each offline model call').default('0'))
    .addOption(
      new Option('--log-level <level>', 'level of the JSON log in <state-dir>/logs/baton.jsonl').choices(['debug', 'info', 'warn', 'error']).default('info'),
    )
    .addOption(
      new Option(
        '--log-format <format>',
        'file: JSON log lines in <state-dir>/logs/baton.jsonl; json: pino JSON lines on stderr instead (for containers and log shippers)',
      )
        .choices(['file', 'json'])
        .env('BATON_LOG_FORMAT')
        .default('file'),
    )
    .addOption(new Option('--emulate <engine>', "make the local engine enforce another engine's limits").choices(['stepfunctions']))
    .addOption(
      new Option('--prices <json|file>', 'token prices by model id, e.g. \'{"<model id>":{"inputPer1M":0.8,"outputPer1M":4}}\': each run\'s model cost').env(
        'BATON_MODEL_PRICES',
      ),
    )
    .addOption(new Option('--redis-url <url>', 'bullmq: Redis server (default: REDIS_URL or redis://127.0.0.1:6379)'))
    .addOption(new Option('--bullmq-prefix <prefix>', 'bullmq: namespace of every Redis key (default: baton)'))
    .addOption(
      new Option(
        '--bullmq-lock-ms <ms>',
        "bullmq: job lock of this process's worker; a stopped worker's steps run again after about lock + 2 x stalled check (default: 6000)",
      ).argParser(positiveMs('--bullmq-lock-ms')),
    )
    .addOption(
      new Option('--bullmq-stalled-ms <ms>', "bullmq: how often this process's worker looks for steps of stopped workers (default: 3000)").argParser(
        positiveMs('--bullmq-stalled-ms'),
      ),
    )
    .addOption(new Option('--temporal-address <host:port>', 'temporal: frontend address (default: TEMPORAL_ADDRESS or localhost:7233)'))
    .addOption(new Option('--temporal-namespace <ns>', 'temporal: namespace (default: default)'))
    .addOption(new Option('--task-queue <name>', 'temporal: task queue (default: baton)'))
    .addOption(new Option('--no-worker', 'bullmq, temporal: run no worker in this process (separate `baton worker` processes do the work)'))
    .addOption(
      new Option(
        '--review-notices <targets>',
        'where review notices (with the token) go, comma-separated: stdout, announce (no token), file:<path>, webhook:<url>, dashboard (worker default: announce, the gate without its token; every notice is also appended to <state-dir>/reviews/notices.jsonl, mode 0600)',
      ),
    )
    .addOption(new Option('--database-url <url>', 'Postgres run registry (default: DATABASE_URL, else PGlite under <state-dir>/registry)'))
    .addOption(
      new Option('--state-machine-arn <arn>', 'stepfunctions: the deployed state machine (AWS_REGION, credentials, AWS_ENDPOINT_URL_SFN from the environment)'),
    )
    .addOption(new Option('--cdk-outputs <file>', 'stepfunctions: the outputs file of cdk deploy --outputs-file (state machine ARN, blob bucket)'))
    .addOption(
      new Option(
        '--blob-bucket <name>',
        "stepfunctions: the deployment's claim-check bucket, for --sources and --out (default: the app's BlobBucketName output)",
      ),
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  const globals = (cmd: Command): { global: GlobalOptions; explicit: Set<string> } => {
    const all = cmd.optsWithGlobals<Record<string, string | undefined> & { worker?: boolean }>();
    const connection: EngineConnection = {
      ...(all.redisUrl ? { redisUrl: all.redisUrl } : {}),
      ...(all.bullmqPrefix ? { bullmqPrefix: all.bullmqPrefix } : {}),
      ...(all.bullmqLockMs ? { bullmqLockMs: Number(all.bullmqLockMs) } : {}),
      ...(all.bullmqStalledMs ? { bullmqStalledMs: Number(all.bullmqStalledMs) } : {}),
      ...(all.temporalAddress ? { temporalAddress: all.temporalAddress } : {}),
      ...(all.temporalNamespace ? { temporalNamespace: all.temporalNamespace } : {}),
      ...(all.taskQueue ? { taskQueue: all.taskQueue } : {}),
      ...(all.worker === false ? { worker: false } : {}),
      ...(all.reviewNotices ? { reviewNotifier: all.reviewNotices } : {}),
      ...(all.stateMachineArn ? { stateMachineArn: all.stateMachineArn } : {}),
      ...(all.cdkOutputs ? { cdkOutputs: resolve(all.cdkOutputs) } : {}),
      ...(all.blobBucket ? { blobBucket: all.blobBucket } : {}),
    };
    const explicit = new Set<string>(GLOBALS.filter((k) => cmd.getOptionValueSourceWithGlobals(k) === 'cli'));
    const global: GlobalOptions = {
      stateDir: all.stateDir ?? '.baton',
      engine: all.engine ?? 'local',
      pipelines: all.pipelines ?? DEFAULT_PIPELINES_MODULE,
      model: all.model ?? 'offline',
      ...(all.faults ? { faults: all.faults } : {}),
      ...(all.offlineLatency ? { offlineLatency: all.offlineLatency } : {}),
      ...(all.emulate ? { emulate: all.emulate } : {}),
      ...(all.prices ? { prices: all.prices } : {}),
      ...(all.logLevel ? { logLevel: all.logLevel } : {}),
      ...(all.logFormat ? { logFormat: all.logFormat } : {}),
      ...(Object.keys(connection).length ? { connection } : {}),
      ...(all.databaseUrl ? { databaseUrl: all.databaseUrl } : {}),
    };
    return { global, explicit };
  };

  program
    .command('run')
    .description('start a run and follow it to the end (or to a review gate); the exit code says how it ended (below)')
    .argument('<pipeline>', 'pipeline name, e.g. report')
    .option('--sources <dir>', 'directory of source documents, uploaded to the blob store as input.sources')
    .option('--input <file>', 'JSON file with the run input')
    .option('--title <title>', 'report title (input.reportTitle)')
    .option('--out <dir>', 'where report files are written when the run succeeds')
    .option('--auto-approve', 'approve review gates unattended (through the engine approve API)')
    .option('--run-id <id>', RUN_ID_HELP, parseRunIdOption)
    .option('--pipeline-version <n>', 'start on this version of the pipeline (default: the newest the pipelines module exports)', parsePipelineVersion)
    .addHelpText('after', RUN_EXIT_HELP)
    .action(async (name: string, opts: Record<string, string | boolean | number | undefined>, cmd: Command) => {
      const { global, explicit } = globals(cmd);
      refuseInapplicable({ name: 'run', autoApprove: opts.autoApprove === true }, global, explicit);
      onExit(
        await runCommand(
          name,
          {
            ...(typeof opts.sources === 'string' ? { sources: opts.sources } : {}),
            ...(typeof opts.input === 'string' ? { input: opts.input } : {}),
            ...(typeof opts.title === 'string' ? { title: opts.title } : {}),
            ...(typeof opts.out === 'string' ? { out: opts.out } : {}),
            ...(typeof opts.runId === 'string' ? { runId: opts.runId } : {}),
            ...(typeof opts.pipelineVersion === 'number' ? { pipelineVersion: opts.pipelineVersion } : {}),
            autoApprove: opts.autoApprove === true,
          },
          global,
        ),
      );
    });

  for (const verdict of ['approve', 'reject'] as const) {
    program
      .command(verdict)
      .description(`${verdict} a review gate with the token delivered when it opened, then follow the run`)
      .argument('<run>', 'run id')
      .argument('<gate>', 'gate name, e.g. review')
      .requiredOption('--token <token>', 'the review token')
      .option('--reviewer <name>', 'who decides')
      .option('--comment <text>', 'why')
      .option('--out <dir>', 'where report files go (default: the --out of baton run)')
      .option('--no-wait', 'record the decision and exit without following the run')
      .option(
        '--section <id=verdict[:note]>',
        'approve: a verdict on one section of a per-section review: approve, send-back:<note> or accept-missing[:note]; repeat per section',
        parseSectionFlag,
      )
      .action(async (runId: string, gate: string, opts: Parameters<typeof decideCommand>[3], cmd: Command) => {
        const { global, explicit } = globals(cmd);
        refuseInapplicable({ name: verdict, noWait: !opts.wait }, global, explicit);
        onExit(await decideCommand(verdict, runId, gate, opts, global, explicit));
      });
  }

  program
    .command('audit')
    .description("print a run's review audit trail from the run registry: who decided what on which section, when, with which note")
    .argument('<run>', 'run id')
    .option('--json', "print it as JSON (the dashboard's audit.json)")
    .action(async (runId: string, opts: { json?: boolean }, cmd: Command) => onExit(await auditCommand(runId, opts, globals(cmd).global)));

  program
    .command('status')
    .description('show a run: state, steps in flight, attempts, retries, open reviews')
    .argument('<run>', 'run id')
    .option('--json', 'print RunInfo as JSON')
    .option('--registry', "print the run registry's record of the run (steps, attempts, reviews) as JSON")
    .action(async (runId: string, opts: { json?: boolean; registry?: boolean }, cmd: Command) => {
      const { global, explicit } = globals(cmd);
      refuseInapplicable({ name: 'status' }, global, explicit);
      onExit(opts.registry ? await registryCommand(runId, global) : await statusCommand(runId, opts, global, explicit));
    });

  program
    .command('resume')
    .description('continue an unfinished run (after a crash or Ctrl-C) and follow it')
    .argument('<run>', 'run id')
    .option('--out <dir>', 'where report files go')
    .action(async (runId: string, opts: { out?: string }, cmd: Command) => {
      const { global, explicit } = globals(cmd);
      refuseInapplicable({ name: 'resume' }, global, explicit);
      onExit(await resumeCommand(runId, opts, global, explicit));
    });

  program
    .command('redrive')
    .description('restart a failed run from its failed steps; completed steps are reused')
    .argument('<run>', 'run id')
    .option('--out <dir>', 'where report files go')
    .action(async (runId: string, opts: { out?: string }, cmd: Command) => {
      const { global, explicit } = globals(cmd);
      refuseInapplicable({ name: 'redrive' }, global, explicit);
      onExit(await redriveCommand(runId, opts, global, explicit));
    });

  program
    .command('list')
    .description('list runs, newest first')
    .option('--registry', "list the run registry's rows (every engine) as JSON")
    .action(async (opts: { registry?: boolean }, cmd: Command) => {
      const { global, explicit } = globals(cmd);
      refuseInapplicable({ name: 'list' }, global, explicit);
      onExit(opts.registry ? await registryCommand(undefined, globals(cmd).global) : await listCommand(globals(cmd).global));
    });

  program
    .command('worker')
    .description(`run this process as a worker of --engine (${Object.keys(WORKER_FACTORIES).join(', ')}) until SIGINT/SIGTERM`)
    .addHelpText('after', WORKER_EXIT_HELP)
    .action(async (_opts: unknown, cmd: Command) => {
      onExit(await workerCommand(globals(cmd).global));
    });

  program
    .command('compile')
    .description('compile pipelines for a deployment target: ASL JSON, compile report and a CDK app per pipeline')
    .argument('[pipeline...]', 'pipeline names (default: every pipeline of --pipelines)')
    .addOption(new Option('--target <target>', 'deployment target').choices(['stepfunctions']).default('stepfunctions'))
    .requiredOption('--out <dir>', 'output directory; each pipeline goes to <out>/<pipeline>/')
    .addOption(new Option('--type <type>', 'Step Functions workflow type').choices(['STANDARD', 'EXPRESS']).default('STANDARD'))
    .option('--database-secret-arn <arn>', 'Secrets Manager secret of the run registry PostgreSQL (URL or RDS JSON), written into cdk.json')
    .option('--dashboard-url <url>', 'base URL of the Baton dashboard, for the review links in notices')
    .option('--review-notifier <spec>', 'how reviewers hear of a review: sns (default), eventbridge[:<bus>], webhook:<url>[#<secretArn>]')
    .action(async (names: string[], opts: CompileCommandOptions, cmd: Command) => {
      // --model (global) is the deployed model here: bedrock:<modelId>, bedrock-profile:<profileId>#<foundationModelId>#<regions>, openai:<baseUrl>#<model>#<keySecretArn>
      const { global, explicit } = globals(cmd);
      onExit(await compileCommand(names, { ...opts, ...(explicit.has('model') ? { model: global.model } : {}) }, global.pipelines));
    });

  program
    .command('dashboard')
    .description('serve the web dashboard over the run registry; approve/reject go through the engine')
    .option('--port <port>', 'TCP port (0: any free port)', '4680')
    .option('--host <host>', 'interface to bind (anything but loopback exposes runs to the network)', '127.0.0.1')
    .option('--token <token>', 'login token, at least 16 characters (default: BATON_DASHBOARD_TOKEN, else generated and printed)')
    .action(async (opts: { port: string; host: string; token?: string }, cmd: Command) => {
      onExit(await dashboardCommand(opts, globals(cmd).global));
    });

  program
    .command('rehearse')
    .description(
      'run a synthesized CDK app offline (moto with IAM enforced, local Step Functions, Lambda and Bedrock, --database-url behind the registry secret) until Ctrl-C',
    )
    .argument('<cdk.out>', 'the cloud assembly directory of cdk synth')
    .option('--secret <name=value...>', 'value of a secret the template imports (by name or ARN)')
    .option('--stack <name>', 'the stack to rehearse (when the assembly has several)')
    .option('--port <port>', 'port of the AWS endpoint of every service (AWS_ENDPOINT_URL)', '4566')
    .option('--sfn-port <port>', 'port of the local Step Functions endpoint', '8083')
    .option('--lambda-port <port>', 'port of the local Lambda endpoint', '3001')
    .option('--time-scale <n>', 'scale retry intervals and waits (0.01: a hundred times faster)', '1')
    .action(async (cdkOut: string, opts: RehearseCommandOptions, cmd: Command) => {
      onExit(await rehearseCommand(cdkOut, opts, globals(cmd).global));
    });

  return program;
}

/** An option parser for a whole number of milliseconds above 0 (commander reports the error as a usage error). */
function positiveMs(flag: string): (value: string) => string {
  return (value) => {
    if (!/^\d+$/.test(value) || Number(value) <= 0) throw new InvalidArgumentError(`${flag} takes a whole number of milliseconds above 0`);
    return value;
  };
}
