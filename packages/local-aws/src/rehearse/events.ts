import type { ResourcePolicy, RuleSpec, RuleTarget } from './context.js';
import { servicePrincipalAllowed } from './resource-policy.js';

/** How the router reaches the targets (the rehearsal wires these to the local Lambda and moto). */
export interface TargetDelivery {
  /** Invokes a function with the event; throws when the invocation fails (a function error included). */
  invoke(functionArn: string, payload: string, rule: RuleSpec): Promise<void>;
  sendMessage(queueArn: string, body: string): Promise<void>;
  publish(topicArn: string, message: string): Promise<void>;
}

/** One delivery of an event to a rule's target. */
export interface EventDelivery {
  rule: string;
  target: string;
  status: 'delivered' | 'failed' | 'dead-lettered' | 'denied';
  attempts: number;
  error?: string;
}

/** Options of {@link createEventRouter}. */
export interface EventRouterOptions {
  rules: RuleSpec[];
  resourcePolicies: ResourcePolicy[];
  account: string;
  delivery: TargetDelivery;
  /** Called when a target's resource policy refuses EventBridge. */
  onDenied(rule: RuleSpec, action: string, resource: string): void;
  /** Retries of a failed delivery before the dead-letter queue, at most. @default 2 */
  maxRetries?: number;
  /** Delay before retry n: `retryDelayMs × 2^(n-1)`. @default 200 */
  retryDelayMs?: number;
}

/** Routes events as EventBridge would through the template's rules. */
export interface EventRouter {
  /** Matches the event against every enabled rule and delivers it to their targets, in order per router. */
  deliver(event: Record<string, unknown>): void;
  /** Resolves when every event handed over so far is delivered (or given up). */
  idle(): Promise<void>;
  readonly deliveries: EventDelivery[];
}

/**
 * EventBridge on the rehearsal's side: the local Step Functions endpoint hands over each
 * execution status-change event, and the router matches it against the event pattern of each of
 * the template's rules and delivers it to their targets, transformed as each target says (Input,
 * InputPath, InputTransformer). A target is reached only when its resource policy lets
 * `events.amazonaws.com` do so for that rule (AWS::Lambda::Permission, the queue's or topic's
 * policy): the permissions CDK adds for a rule are checked, not assumed. A failed delivery is
 * retried (fewer times than EventBridge's 185, with short delays) and then sent to the target's
 * dead-letter queue. Events are delivered one after another, in the order they were handed over.
 */
export function createEventRouter(options: EventRouterOptions): EventRouter {
  const deliveries: EventDelivery[] = [];
  let chain: Promise<void> = Promise.resolve();
  const maxRetries = options.maxRetries ?? 2;
  const delay = options.retryDelayMs ?? 200;

  const toTarget = async (rule: RuleSpec, target: RuleTarget, event: Record<string, unknown>): Promise<void> => {
    const service = target.Arn.split(':')[2];
    const action = service === 'lambda' ? 'lambda:InvokeFunction' : service === 'sqs' ? 'sqs:SendMessage' : service === 'sns' ? 'sns:Publish' : `${service}:*`;
    const record: EventDelivery = { rule: rule.name, target: target.Arn, status: 'failed', attempts: 0 };
    deliveries.push(record);
    const context = { 'aws:SourceArn': rule.arn, 'aws:SourceAccount': options.account };
    if (!servicePrincipalAllowed(options.resourcePolicies, 'events.amazonaws.com', action, target.Arn, context)) {
      record.status = 'denied';
      options.onDenied(rule, action, target.Arn);
      return;
    }
    const payload = transform(target, event);
    for (;;) {
      record.attempts++;
      try {
        if (service === 'lambda') await options.delivery.invoke(target.Arn, payload, rule);
        else if (service === 'sqs') await options.delivery.sendMessage(target.Arn, payload);
        else if (service === 'sns') await options.delivery.publish(target.Arn, payload);
        else throw new Error(`targets of service ${service} are not rehearsed`);
        record.status = 'delivered';
        return;
      } catch (e) {
        record.error = (e as Error).message;
        if (record.attempts > Math.min(maxRetries, target.RetryPolicy?.MaximumRetryAttempts ?? 185)) break;
        await new Promise((r) => setTimeout(r, delay * 2 ** (record.attempts - 1)));
      }
    }
    const dlq = target.DeadLetterConfig?.Arn;
    if (dlq) {
      await options.delivery.sendMessage(dlq, JSON.stringify(event)).then(
        () => void (record.status = 'dead-lettered'),
        (e: unknown) => void (record.error += `; dead-letter queue: ${(e as Error).message}`),
      );
    }
  };

  return {
    deliveries,
    deliver(event) {
      const matched = options.rules.filter((r) => r.enabled && r.pattern && matchesPattern(r.pattern, event));
      chain = chain.then(async () => {
        for (const rule of matched) for (const target of rule.targets) await toTarget(rule, target, event);
      });
    },
    idle: () => chain,
  };
}

/**
 * EventBridge pattern matching: every key of the pattern must match; a list matches when any of its
 * items matches the value (or any element of an array value); items are literals or the
 * `prefix`, `suffix`, `anything-but`, `exists`, `equals-ignore-case`, `wildcard` and `numeric` filters.
 */
export function matchesPattern(pattern: Record<string, unknown>, event: unknown): boolean {
  const obj = (event ?? {}) as Record<string, unknown>;
  return Object.entries(pattern).every(([key, expected]) => {
    const value = obj[key];
    if (Array.isArray(expected)) {
      if (expected.some((e) => isObject(e) && 'exists' in e))
        return expected.some((e) => isObject(e) && 'exists' in e && (e.exists === true) === (value !== undefined));
      const values = Array.isArray(value) ? value : [value];
      return value !== undefined && values.some((v) => expected.some((e) => matchesValue(e, v)));
    }
    if (isObject(expected)) return isObject(value) && matchesPattern(expected, value);
    return false;
  });
}

function matchesValue(filter: unknown, value: unknown): boolean {
  if (!isObject(filter)) return filter === value;
  const [op, arg] = Object.entries(filter)[0] ?? [];
  const text = typeof value === 'string' ? value : undefined;
  switch (op) {
    case 'prefix':
      return (
        text !== undefined && (isObject(arg) ? text.toLowerCase().startsWith(String(arg['equals-ignore-case']).toLowerCase()) : text.startsWith(String(arg)))
      );
    case 'suffix':
      return text !== undefined && (isObject(arg) ? text.toLowerCase().endsWith(String(arg['equals-ignore-case']).toLowerCase()) : text.endsWith(String(arg)));
    case 'equals-ignore-case':
      return text !== undefined && text.toLowerCase() === String(arg).toLowerCase();
    case 'wildcard':
      return (
        text !== undefined &&
        new RegExp(
          `^${String(arg)
            .replace(/[.+^${}()|[\]\\?]/g, '\\$&')
            .replace(/\*/g, '.*')}$`,
          's',
        ).test(text)
      );
    case 'anything-but':
      return Array.isArray(arg) ? !arg.some((a) => matchesValue(a, value)) : !matchesValue(arg, value);
    case 'numeric':
      return typeof value === 'number' && numeric(arg as unknown[], value);
    default:
      return false;
  }
}

function numeric(ops: unknown[], value: number): boolean {
  for (let i = 0; i + 1 < ops.length; i += 2) {
    const n = Number(ops[i + 1]);
    const ok = { '=': value === n, '<': value < n, '<=': value <= n, '>': value > n, '>=': value >= n }[String(ops[i])];
    if (!ok) return false;
  }
  return true;
}

/** The payload a target receives: the whole event, a constant Input, the InputPath's value, or the InputTransformer's template filled in. */
export function transform(target: RuleTarget, event: Record<string, unknown>): string {
  if (target.Input !== undefined) return target.Input;
  if (target.InputPath) return JSON.stringify(jsonPath(event, target.InputPath) ?? null);
  const t = target.InputTransformer;
  if (!t) return JSON.stringify(event);
  const values: Record<string, unknown> = {};
  for (const [name, path] of Object.entries(t.InputPathsMap ?? {})) values[name] = jsonPath(event, path);
  values['aws.events.event'] = event;
  values['aws.events.event.json'] = event;
  values['aws.events.rule-arn'] = undefined;
  return fillTemplate(t.InputTemplate, values);
}

/**
 * Fills `<name>` placeholders: inside a JSON string a value goes in as text (escaped), outside one
 * as JSON (`null` when the path matched nothing). Placeholders it has no value for stay as they are.
 */
function fillTemplate(template: string, values: Record<string, unknown>): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c === '"' && template[i - 1] !== '\\') inString = !inString;
    const m = c === '<' ? /^<([\w.-]+)>/.exec(template.slice(i)) : null;
    if (!m || !(m[1]! in values)) {
      out += c;
      continue;
    }
    const v = values[m[1]!];
    out += inString ? JSON.stringify(typeof v === 'string' ? v : JSON.stringify(v ?? null)).slice(1, -1) : JSON.stringify(v ?? null);
    i += m[0].length - 1;
  }
  return out;
}

function jsonPath(event: unknown, path: string): unknown {
  if (path === '$') return event;
  let v: unknown = event;
  for (const key of path
    .replace(/^\$\.?/, '')
    .split('.')
    .filter(Boolean))
    v = isObject(v) ? v[key] : undefined;
  return v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
