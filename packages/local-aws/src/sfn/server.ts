import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExecutionStatusChangeEvent } from '@baton/adapter-stepfunctions';
import { StateMachine } from 'aws-local-stepfunctions';
import { accessKeyOf, close, listen, readBody, send } from '../http.js';
import { prepareDefinition } from './definition.js';
import { SfnApiError } from './errors.js';
import { Executions, type MachineSnapshot } from './executions.js';
import { createIntegrations, type Credentials, type ServiceEndpoints } from './integrations.js';
import { TaskTokens } from './tokens.js';
import { describeExecution, listItem, paginate, toWire, withoutData, type Body } from './wire.js';

/** Options of {@link startLocalStepFunctions}. */
export interface LocalStepFunctionsOptions {
  /** @default 'us-east-1' */
  region?: string;
  /** @default '000000000000' */
  account?: string;
  /** @default 0 (a free port on 127.0.0.1) */
  port?: number;
  /** Credentials the state machine's service integrations are signed with (its role's user), per state machine ARN. @default a fixed local key */
  roleCredentials?: (stateMachineArn: string) => { accessKeyId: string; secretAccessKey: string } | undefined;
  /** Endpoints of the services Task states call: lambda (the local Lambda), sqs (moto)... */
  endpoints: ServiceEndpoints;
  /** Receives each execution status-change event (EventBridge shape): RUNNING at start and redrive, then SUCCEEDED / FAILED / TIMED_OUT / ABORTED. */
  onStatusChange?: (event: ExecutionStatusChangeEvent) => void | Promise<void>;
  /** Scales every retry interval and Wait state `Seconds`, for fast rehearsals (1 = real time). @default 1 */
  timeScale?: number;
  /**
   * The clock RedriveExecution's 14-day window is read on, in ms since the epoch: a test moves it
   * forward to see a run Step Functions no longer redrives. @default Date.now
   */
  now?: () => number;
  /**
   * Who may call the API: returns a denial message, or `undefined` to allow. Called with the
   * request's SigV4 access key id ('' when unsigned), the IAM action (`states:StartExecution`...)
   * and the resource (the state machine or execution ARN). A denial answers AccessDeniedException.
   */
  authorize?: (accessKeyId: string, action: string, resource: string) => string | undefined;
}

/** A running local Step Functions endpoint. */
export interface LocalStepFunctions {
  /** Endpoint for `new SFNClient({ endpoint })` (or `AWS_ENDPOINT_URL_SFN`). */
  url: string;
  /** Aborts running executions, waits for their status-change deliveries, stops the server. */
  close(): Promise<void>;
}

interface MachineRecord extends MachineSnapshot {
  /** Published versions, version n at index n - 1: what each was when published. */
  versions: (MachineSnapshot & { revisionId: string; creationDate: Date })[];
  /** Alias name → the version ARN it routes to (no weighted routing: the heaviest entry). */
  aliases: Map<string, string>;
  seq: number;
  creationDate: Date;
  updateDate?: Date;
  revisionId: string;
  loggingConfiguration?: unknown;
  tracingConfiguration?: unknown;
}

type Operation = (body: Body, caller: string) => unknown;

const NAME = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/;
const ROLE = /^arn:aws[\w-]*:iam::\d{12}:role\/.+$/;
const MAX_INPUT = 256 * 1024;
const LOCAL_CREDENTIALS: Credentials = { accessKeyId: 'LOCALSTEPFUNCTIONS', secretAccessKey: 'local' };

/**
 * Starts an HTTP server speaking the Step Functions API
 * (awsJson1.0, `X-Amz-Target: AWSStepFunctions.<Op>`), so that `@aws-sdk/client-sfn` talks to it unchanged, executing
 * definitions on aws-local-stepfunctions with Task states bound to the service integrations
 * (Lambda through the local Lambda endpoint, SQS/SNS/EventBridge through theirs). Supports
 * CreateStateMachine and UpdateStateMachine (with `publish`), PublishStateMachineVersion,
 * CreateStateMachineAlias, UpdateStateMachineAlias (an alias routes to its heaviest version: no
 * weighted routing), DeleteStateMachine, DescribeStateMachine,
 * DescribeStateMachineForExecution, ListStateMachines, StartExecution, DescribeExecution,
 * GetExecutionHistory, ListExecutions, StopExecution, RedriveExecution, SendTaskSuccess,
 * SendTaskFailure and SendTaskHeartbeat (StartExecution on a version or alias ARN runs that
 * version, and DescribeExecution names it). A test and development tool: everything lives in memory
 * and is gone when it stops (on AWS the service holds execution state); see the README for what
 * differs from AWS.
 *
 * @example
 * ```ts
 * const lambda = await startLocalLambda({ functions });
 * const sfn = await startLocalStepFunctions({ endpoints: { lambda: lambda.url }, timeScale: 0.01 });
 * const client = new SFNClient({ endpoint: sfn.url, region: 'us-east-1', credentials });
 * const { stateMachineArn } = await client.send(new CreateStateMachineCommand({ name: 'report', definition, roleArn }));
 * await client.send(new StartExecutionCommand({ stateMachineArn, name: 'run-1', input: '{}' }));
 * ```
 */
export async function startLocalStepFunctions(options: LocalStepFunctionsOptions): Promise<LocalStepFunctions> {
  const region = options.region ?? 'us-east-1';
  const account = options.account ?? '000000000000';
  const machines = new Map<string, MachineRecord>();
  const tokens = new TaskTokens();
  const integrations = createIntegrations({ region, endpoints: options.endpoints });
  const executions = new Executions({
    region,
    account,
    tokens,
    integrationOf: integrations.of,
    credentialsOf: (arn) => options.roleCredentials?.(arn) ?? LOCAL_CREDENTIALS,
    timeScale: options.timeScale ?? 1,
    ...(options.now ? { now: options.now } : {}),
    ...(options.onStatusChange ? { onStatusChange: options.onStatusChange } : {}),
  });
  let machineSeq = 0;
  const machineArn = (name: string): string => `arn:aws:states:${region}:${account}:stateMachine:${name}`;
  const allow = (caller: string, action: string, resource: string): void => {
    const denial = options.authorize?.(caller, `states:${action}`, resource);
    if (denial !== undefined) throw new SfnApiError('AccessDeniedException', denial);
  };
  const machine = (arn: unknown): MachineRecord => {
    const m = machines.get(String(arn ?? ''));
    if (!m) throw new SfnApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${String(arn)}'`);
    return m;
  };
  /** PublishStateMachineVersion: the current revision as a new version, or the newest version when it is that revision already. */
  const publish = (m: MachineRecord): { stateMachineVersionArn: string; creationDate: Date } => {
    const newest = m.versions.at(-1);
    if (newest && newest.revisionId === m.revisionId) return { stateMachineVersionArn: newest.versionArn!, creationDate: newest.creationDate };
    const { arn, name, roleArn, type, definition, prepared, revisionId } = m;
    const version = { arn, name, roleArn, type, definition, prepared, revisionId, versionArn: `${m.arn}:${m.versions.length + 1}`, creationDate: new Date() };
    m.versions.push(version);
    return { stateMachineVersionArn: version.versionArn, creationDate: version.creationDate };
  };
  /** The machine and, for a version or alias ARN (`<machine ARN>:<version or alias>`), its qualifier. */
  const qualified = (arn: unknown): { m: MachineRecord; qualifier?: string } => {
    const text = String(arn ?? '');
    const parts = text.split(':');
    if (parts.length !== 8) return { m: machine(text) };
    return { m: machine(parts.slice(0, 7).join(':')), qualifier: parts[7]! };
  };
  /** What an execution started on `arn` runs: the current revision, a version, or the version an alias routes to. */
  const snapshotOf = (arn: unknown): MachineSnapshot => {
    const { m, qualifier } = qualified(arn);
    if (qualifier === undefined) {
      const { arn: a, name, roleArn, type, definition, prepared } = m;
      return { arn: a, name, roleArn, type, definition, prepared };
    }
    const aliasArn = /^\d+$/.test(qualifier) ? undefined : String(arn);
    const versionArn = aliasArn === undefined ? String(arn) : m.aliases.get(qualifier);
    const version = m.versions.find((v) => v.versionArn === versionArn);
    if (!version) throw new SfnApiError('ResourceNotFound', `Resource not found: '${String(arn)}'`);
    const { revisionId: _r, creationDate: _c, ...snapshot } = version;
    return { ...snapshot, ...(aliasArn === undefined ? {} : { aliasArn }) };
  };
  /** The version an alias routes to: the entry of its routing configuration with the largest weight. */
  const routed = (m: MachineRecord, routing: unknown): string => {
    const entries = Array.isArray(routing) ? (routing as { stateMachineVersionArn?: string; weight?: number }[]) : [];
    const target = [...entries].sort((a, b) => (b.weight ?? 0) - (a.weight ?? 0))[0]?.stateMachineVersionArn;
    if (!target || !m.versions.some((v) => v.versionArn === target))
      throw new SfnApiError('ValidationException', `routingConfiguration must name a version of ${m.arn}`);
    return target;
  };
  const validate = (definition: unknown): { text: string; prepared: MachineSnapshot['prepared'] } => {
    if (typeof definition !== 'string') throw new SfnApiError('ValidationException', 'definition is required');
    const prepared = prepareDefinition(definition);
    try {
      // asl-validator changes what it checks: a copy
      new StateMachine(structuredClone(prepared.definition) as never, { validationOptions: { checkArn: true, checkPaths: true } });
    } catch (e) {
      throw new SfnApiError('InvalidDefinition', `Invalid State Machine Definition: '${(e as Error).message.replace(/\s+/g, ' ').trim()}'`);
    }
    return { text: definition, prepared };
  };
  const describeMachine = (m: MachineRecord): Body => ({
    stateMachineArn: m.arn,
    name: m.name,
    status: 'ACTIVE',
    definition: m.definition,
    roleArn: m.roleArn,
    type: m.type,
    creationDate: m.creationDate,
    revisionId: m.revisionId,
    ...(m.loggingConfiguration === undefined ? {} : { loggingConfiguration: m.loggingConfiguration }),
    ...(m.tracingConfiguration === undefined ? {} : { tracingConfiguration: m.tracingConfiguration }),
  });

  const ops: Record<string, Operation> = {
    CreateStateMachine(b, caller) {
      const name = String(b.name ?? '');
      if (!NAME.test(name)) throw new SfnApiError('InvalidName', `Invalid Name: '${name}'`);
      const arn = machineArn(name);
      allow(caller, 'CreateStateMachine', arn);
      const roleArn = String(b.roleArn ?? '');
      if (!ROLE.test(roleArn)) throw new SfnApiError('InvalidArn', `Invalid Arn: 'Resource type not valid in this context: ${roleArn}'`);
      const type = (b.type as string | undefined) ?? 'STANDARD';
      if (type !== 'STANDARD' && type !== 'EXPRESS') throw new SfnApiError('ValidationException', `type must be STANDARD or EXPRESS, not ${type}`);
      const { text, prepared } = validate(b.definition);
      const existing = machines.get(arn);
      if (existing) {
        if (existing.definition === text && existing.roleArn === roleArn && existing.type === type)
          return { stateMachineArn: arn, creationDate: existing.creationDate };
        throw new SfnApiError('StateMachineAlreadyExists', `State Machine Already Exists: '${arn}'`);
      }
      const m: MachineRecord = {
        seq: ++machineSeq,
        arn,
        name,
        roleArn,
        type,
        definition: text,
        prepared,
        creationDate: new Date(),
        revisionId: randomUUID(),
        versions: [],
        aliases: new Map(),
      };
      if (b.loggingConfiguration !== undefined) m.loggingConfiguration = b.loggingConfiguration;
      if (b.tracingConfiguration !== undefined) m.tracingConfiguration = b.tracingConfiguration;
      machines.set(arn, m);
      return {
        stateMachineArn: arn,
        creationDate: m.creationDate,
        ...(b.publish === true ? { stateMachineVersionArn: publish(m).stateMachineVersionArn } : {}),
      };
    },
    UpdateStateMachine(b, caller) {
      const m = machine(b.stateMachineArn);
      allow(caller, 'UpdateStateMachine', m.arn);
      if (b.definition !== undefined) {
        const { text, prepared } = validate(b.definition);
        Object.assign(m, { definition: text, prepared });
      }
      if (b.roleArn !== undefined) {
        if (!ROLE.test(String(b.roleArn))) throw new SfnApiError('InvalidArn', `Invalid Arn: '${String(b.roleArn)}'`);
        m.roleArn = String(b.roleArn);
      }
      if (b.loggingConfiguration !== undefined) m.loggingConfiguration = b.loggingConfiguration;
      if (b.tracingConfiguration !== undefined) m.tracingConfiguration = b.tracingConfiguration;
      m.updateDate = new Date();
      m.revisionId = randomUUID();
      return {
        updateDate: m.updateDate,
        revisionId: m.revisionId,
        ...(b.publish === true ? { stateMachineVersionArn: publish(m).stateMachineVersionArn } : {}),
      };
    },
    PublishStateMachineVersion(b, caller) {
      const m = machine(b.stateMachineArn);
      allow(caller, 'PublishStateMachineVersion', m.arn);
      if (b.revisionId !== undefined && b.revisionId !== m.revisionId)
        throw new SfnApiError('ConflictException', `revisionId ${String(b.revisionId)} is not the current revision of ${m.arn}`);
      return publish(m);
    },
    CreateStateMachineAlias(b, caller) {
      const name = String(b.name ?? '');
      // an alias name is not a version number
      if (!NAME.test(name) || /^\d+$/.test(name)) throw new SfnApiError('ValidationException', `Invalid alias name: '${name}'`);
      const entries = Array.isArray(b.routingConfiguration) ? (b.routingConfiguration as { stateMachineVersionArn?: string }[]) : [];
      const { m } = qualified(entries[0]?.stateMachineVersionArn);
      const aliasArn = `${m.arn}:${name}`;
      allow(caller, 'CreateStateMachineAlias', aliasArn);
      if (m.aliases.has(name)) throw new SfnApiError('ConflictException', `Alias already exists: '${aliasArn}'`);
      m.aliases.set(name, routed(m, b.routingConfiguration));
      return { stateMachineAliasArn: aliasArn, creationDate: new Date() };
    },
    UpdateStateMachineAlias(b, caller) {
      const { m, qualifier } = qualified(b.stateMachineAliasArn);
      if (qualifier === undefined || !m.aliases.has(qualifier))
        throw new SfnApiError('ResourceNotFound', `Resource not found: '${String(b.stateMachineAliasArn)}'`);
      allow(caller, 'UpdateStateMachineAlias', String(b.stateMachineAliasArn));
      if (b.routingConfiguration !== undefined) m.aliases.set(qualifier, routed(m, b.routingConfiguration));
      return { updateDate: new Date() };
    },
    DeleteStateMachine(b, caller) {
      const arn = String(b.stateMachineArn ?? '');
      allow(caller, 'DeleteStateMachine', arn);
      machines.delete(arn);
      return {};
    },
    DescribeStateMachine(b, caller) {
      const m = machine(b.stateMachineArn);
      allow(caller, 'DescribeStateMachine', m.arn);
      return describeMachine(m);
    },
    DescribeStateMachineForExecution(b, caller) {
      const e = executions.get(b.executionArn as string);
      allow(caller, 'DescribeStateMachineForExecution', e.arn);
      return { stateMachineArn: e.machine.arn, name: e.machine.name, definition: e.machine.definition, roleArn: e.machine.roleArn, updateDate: e.startDate };
    },
    ListStateMachines(b, caller) {
      allow(caller, 'ListStateMachines', '*');
      const all = [...machines.values()].sort((x, y) => x.seq - y.seq);
      const { page, nextToken } = paginate(all, b, (m) => m.seq, 'asc');
      return {
        stateMachines: page.map((m) => ({ stateMachineArn: m.arn, name: m.name, type: m.type, creationDate: m.creationDate })),
        ...(nextToken ? { nextToken } : {}),
      };
    },
    StartExecution(b, caller) {
      const snapshot = snapshotOf(b.stateMachineArn);
      allow(caller, 'StartExecution', String(b.stateMachineArn));
      const name = b.name === undefined ? randomUUID() : String(b.name);
      if (!NAME.test(name)) throw new SfnApiError('InvalidName', `Invalid Name: '${name}'`);
      const input = b.input === undefined ? '{}' : String(b.input);
      if (Buffer.byteLength(input) > MAX_INPUT)
        throw new SfnApiError('InvalidExecutionInput', `Invalid State Machine Execution Input: 'input is larger than ${MAX_INPUT} bytes'`);
      try {
        JSON.parse(input);
      } catch (e) {
        throw new SfnApiError('InvalidExecutionInput', `Invalid State Machine Execution Input: '${(e as Error).message}'`);
      }
      const e = executions.start(snapshot, name, input, b.traceHeader as string | undefined);
      return { executionArn: e.arn, startDate: e.startDate };
    },
    DescribeExecution(b, caller) {
      const e = executions.get(b.executionArn as string);
      allow(caller, 'DescribeExecution', e.arn);
      return describeExecution(e, executions.notRedrivable(e));
    },
    GetExecutionHistory(b, caller) {
      const e = executions.get(b.executionArn as string);
      allow(caller, 'GetExecutionHistory', e.arn);
      const reverse = b.reverseOrder === true;
      const events = reverse ? [...e.history.events].reverse() : e.history.events;
      const { page, nextToken } = paginate(events, b, (h) => h.id, reverse ? 'desc' : 'asc');
      const withData = b.includeExecutionData !== false;
      return { events: withData ? page : page.map(withoutData), ...(nextToken ? { nextToken } : {}) };
    },
    ListExecutions(b, caller) {
      // a version or alias ARN lists the executions started on it
      const { m, qualifier } = qualified(b.stateMachineArn);
      allow(caller, 'ListExecutions', String(b.stateMachineArn));
      const all = [...executions.all.values()]
        .filter((e) => e.machine.arn === m.arn)
        .filter((e) => qualifier === undefined || e.machine.aliasArn === b.stateMachineArn || e.machine.versionArn === b.stateMachineArn)
        .filter((e) => b.statusFilter === undefined || e.status === b.statusFilter)
        .filter((e) => b.redriveFilter === undefined || (b.redriveFilter === 'REDRIVEN') === e.redriveCount > 0)
        .sort((x, y) => y.seq - x.seq);
      const { page, nextToken } = paginate(all, b, (e) => e.seq, 'desc');
      return { executions: page.map(listItem), ...(nextToken ? { nextToken } : {}) };
    },
    StopExecution(b, caller) {
      const e = executions.get(b.executionArn as string);
      allow(caller, 'StopExecution', e.arn);
      return { stopDate: executions.stop(e, b.error as string | undefined, b.cause as string | undefined) };
    },
    RedriveExecution(b, caller) {
      const e = executions.get(b.executionArn as string);
      allow(caller, 'RedriveExecution', e.arn);
      return { redriveDate: executions.redrive(e) };
    },
    SendTaskSuccess(b, caller) {
      allow(caller, 'SendTaskSuccess', tokens.ownerOf(String(b.taskToken ?? '')));
      tokens.succeed(String(b.taskToken ?? ''), b.output as string | undefined);
      return {};
    },
    SendTaskFailure(b, caller) {
      allow(caller, 'SendTaskFailure', tokens.ownerOf(String(b.taskToken ?? '')));
      tokens.fail(String(b.taskToken ?? ''), b.error as string | undefined, b.cause as string | undefined);
      return {};
    },
    SendTaskHeartbeat(b, caller) {
      allow(caller, 'SendTaskHeartbeat', tokens.ownerOf(String(b.taskToken ?? '')));
      tokens.heartbeat(String(b.taskToken ?? ''));
      return {};
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const op = ops[target.slice(target.indexOf('.') + 1)];
    const reply = (status: number, body: unknown): void =>
      send(res, status, toWire(body), { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() });
    try {
      if (req.method !== 'POST' || !target.startsWith('AWSStepFunctions.') || !op)
        throw new SfnApiError('UnknownOperationException', `local Step Functions does not support ${target || `${req.method} ${req.url}`}`);
      const raw = await readBody(req, 1024 * 1024 * 2);
      if (!raw) throw new SfnApiError('ValidationException', 'request too large');
      const body = raw.length ? (JSON.parse(raw.toString('utf8')) as Body) : {};
      reply(200, await op(body, accessKeyOf(req)));
    } catch (e) {
      if (e instanceof SfnApiError) reply(e.status, e.body());
      else if (e instanceof SyntaxError) reply(400, new SfnApiError('SerializationException', e.message).body());
      else throw e;
    }
  };

  const { server, url } = await listen(handle, options.port);
  return {
    url,
    async close() {
      await executions.closeAll();
      await close(server);
      integrations.destroy();
    },
  };
}
