import type { CfnTemplate } from './cloud-assembly.js';

/** What a created resource answers to `Ref` and `Fn::GetAtt`. */
export interface PhysicalResource {
  ref: string;
  attributes: Record<string, string>;
}

/** The pseudo parameters and created resources intrinsics resolve against. */
export interface ResolveContext {
  region: string;
  account: string;
  stackName: string;
  /** Logical id → what it was created as. */
  physical: Map<string, PhysicalResource>;
  /** Parameter values (defaults of the template's parameters unless given). */
  parameters: Record<string, unknown>;
  /** Condition name → its value. */
  conditions: Record<string, boolean>;
}

const NO_VALUE = Symbol('AWS::NoValue');

/**
 * Resolves the CloudFormation intrinsic functions in `value`: `Ref` (resources, parameters and
 * the pseudo parameters AWS::Partition / Region / AccountId / URLSuffix / StackName / StackId /
 * NoValue), `Fn::GetAtt`, `Fn::Join`, `Fn::Sub`, `Fn::Select`, `Fn::Split`, `Fn::If` (with the
 * template's conditions), `Fn::Base64`, `Fn::GetAZs`. A reference to a resource not created yet
 * throws naming it: resources are created in dependency order ({@link creationOrder}).
 *
 * @example
 * ```ts
 * resolve({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::b']] }, context); // 'arn:aws:s3:::b'
 * ```
 */
export function resolve(value: unknown, context: ResolveContext): unknown {
  const out = resolveInner(value, context);
  return out === NO_VALUE ? undefined : out;
}

/** {@link resolve}, then a string (or a failure naming what it got). */
export function resolveString(value: unknown, context: ResolveContext, what: string): string {
  const out = resolve(value, context);
  if (typeof out === 'string') return out;
  if (typeof out === 'number' || typeof out === 'boolean') return String(out);
  throw new Error(`${what}: expected a string, got ${JSON.stringify(out)}`);
}

function resolveInner(value: unknown, ctx: ResolveContext): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveInner(v, ctx)).filter((v) => v !== NO_VALUE);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1) {
    const [fn, arg] = entries[0]!;
    switch (fn) {
      case 'Ref':
        return ref(String(arg), ctx);
      case 'Fn::GetAtt': {
        const [id, ...path] = Array.isArray(arg) ? (arg as string[]) : String(arg).split('.');
        return getAtt(id!, path.join('.'), ctx);
      }
      case 'Fn::Join': {
        const [sep, parts] = arg as [string, unknown];
        const list = resolveInner(parts, ctx);
        if (!Array.isArray(list)) throw new Error(`Fn::Join of ${JSON.stringify(parts)}: not a list`);
        return list.map((p) => String(p)).join(sep);
      }
      case 'Fn::Sub':
        return sub(arg, ctx);
      case 'Fn::Select': {
        const [index, list] = arg as [unknown, unknown];
        const items = resolveInner(list, ctx);
        const i = Number(resolveInner(index, ctx));
        if (!Array.isArray(items) || !(i in items)) throw new Error(`Fn::Select ${i} of ${JSON.stringify(items)}: out of range`);
        return items[i];
      }
      case 'Fn::Split': {
        const [sep, text] = arg as [string, unknown];
        return String(resolveInner(text, ctx)).split(sep);
      }
      case 'Fn::If': {
        const [condition, yes, no] = arg as [string, unknown, unknown];
        return resolveInner(conditionValue(condition, ctx) ? yes : no, ctx);
      }
      case 'Fn::Base64':
        return Buffer.from(String(resolveInner(arg, ctx))).toString('base64');
      case 'Fn::GetAZs':
        return ['a', 'b', 'c'].map((z) => `${ctx.region}${z}`);
      case 'Fn::ImportValue':
        throw new Error(`Fn::ImportValue ${JSON.stringify(arg)}: cross-stack imports are not rehearsed (rehearse the exporting stack's values as parameters)`);
      default:
        break;
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) {
    const r = resolveInner(v, ctx);
    if (r !== NO_VALUE) out[k] = r;
  }
  return out;
}

function ref(name: string, ctx: ResolveContext): unknown {
  switch (name) {
    case 'AWS::Partition':
      return 'aws';
    case 'AWS::Region':
      return ctx.region;
    case 'AWS::AccountId':
      return ctx.account;
    case 'AWS::URLSuffix':
      return 'amazonaws.com';
    case 'AWS::StackName':
      return ctx.stackName;
    case 'AWS::StackId':
      return `arn:aws:cloudformation:${ctx.region}:${ctx.account}:stack/${ctx.stackName}/00000000-0000-4000-8000-000000000000`;
    case 'AWS::NoValue':
      return NO_VALUE;
    case 'AWS::NotificationARNs':
      return [];
    default:
      break;
  }
  if (name in ctx.parameters) return ctx.parameters[name];
  const physical = ctx.physical.get(name);
  if (!physical) throw new Error(`Ref ${name}: no such parameter, and that resource is not created (yet)`);
  return physical.ref;
}

function getAtt(id: string, attribute: string, ctx: ResolveContext): string {
  const physical = ctx.physical.get(id);
  if (!physical) throw new Error(`Fn::GetAtt ${id}.${attribute}: that resource is not created (yet)`);
  const value = physical.attributes[attribute];
  if (value === undefined)
    throw new Error(`Fn::GetAtt ${id}.${attribute}: the rehearsal knows ${Object.keys(physical.attributes).join(', ') || 'no attributes'} of it`);
  return value;
}

function sub(arg: unknown, ctx: ResolveContext): string {
  const [text, vars] = typeof arg === 'string' ? [arg, {}] : (arg as [string, Record<string, unknown>]);
  const values = resolveInner(vars, ctx) as Record<string, unknown>;
  return text.replace(/\$\{(!?)([^}]+)\}/g, (whole, bang: string, name: string) => {
    if (bang) return `\${${name}}`;
    if (name in values) return String(values[name]);
    const dot = name.indexOf('.');
    return dot > 0 && !name.startsWith('AWS::') ? getAtt(name.slice(0, dot), name.slice(dot + 1), ctx) : String(ref(name, ctx));
  });
}

function conditionValue(name: string, ctx: ResolveContext): boolean {
  if (!(name in ctx.conditions)) throw new Error(`condition ${name} is not defined`);
  return ctx.conditions[name]!;
}

/** Evaluates the template's Conditions (Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition) over parameters and pseudo parameters. */
export function evaluateConditions(template: CfnTemplate, ctx: ResolveContext): Record<string, boolean> {
  const defs = template.Conditions ?? {};
  const out: Record<string, boolean> = {};
  const evaluate = (expr: unknown): boolean => {
    const [fn, arg] = Object.entries(expr as Record<string, unknown>)[0] ?? [];
    switch (fn) {
      case 'Fn::Equals': {
        const [a, b] = arg as [unknown, unknown];
        return JSON.stringify(resolve(a, ctx)) === JSON.stringify(resolve(b, ctx));
      }
      case 'Fn::Not':
        return !evaluate((arg as unknown[])[0]);
      case 'Fn::And':
        return (arg as unknown[]).every(evaluate);
      case 'Fn::Or':
        return (arg as unknown[]).some(evaluate);
      case 'Condition':
        return named(String(arg));
      default:
        throw new Error(`condition expression ${JSON.stringify(expr)} is not rehearsed`);
    }
  };
  const named = (name: string): boolean => {
    if (!(name in out)) {
      if (!(name in defs)) throw new Error(`condition ${name} is not defined`);
      out[name] = evaluate(defs[name]);
    }
    return out[name]!;
  };
  for (const name of Object.keys(defs)) named(name);
  return out;
}

/**
 * The logical ids of the template's resources in an order where each comes after every resource
 * it references (Ref, Fn::GetAtt, Fn::Sub names, DependsOn), as CloudFormation creates them.
 */
export function creationOrder(template: CfnTemplate): string[] {
  const ids = Object.keys(template.Resources);
  const known = new Set(ids);
  const deps = new Map(ids.map((id) => [id, referencedResources(template.Resources[id], known)]));
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, path: string[]): void => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') throw new Error(`circular dependency: ${[...path, id].join(' -> ')}`);
    state.set(id, 'visiting');
    for (const d of deps.get(id) ?? []) if (d !== id) visit(d, [...path, id]);
    state.set(id, 'done');
    order.push(id);
  };
  for (const id of ids) visit(id, []);
  return order;
}

function referencedResources(resource: unknown, known: Set<string>): Set<string> {
  const out = new Set<string>();
  const r = resource as { DependsOn?: string | string[] };
  for (const d of [r.DependsOn ?? []].flat()) out.add(d);
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (v === null || typeof v !== 'object') return;
    for (const [k, arg] of Object.entries(v as Record<string, unknown>)) {
      if (k === 'Ref' && typeof arg === 'string' && known.has(arg)) out.add(arg);
      else if (k === 'Fn::GetAtt') {
        const id = Array.isArray(arg) ? String(arg[0]) : String(arg).split('.')[0]!;
        if (known.has(id)) out.add(id);
      } else if (k === 'Fn::Sub') {
        const text = typeof arg === 'string' ? arg : Array.isArray(arg) ? String(arg[0]) : '';
        for (const m of text.matchAll(/\$\{([^!}][^}.]*)/g)) if (known.has(m[1]!)) out.add(m[1]!);
        walk(arg);
      } else walk(arg);
    }
  };
  walk((resource as { Properties?: unknown }).Properties);
  return out;
}
