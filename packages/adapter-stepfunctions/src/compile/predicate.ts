import type { Predicate } from '@baton/core';
import { rootPath, type Scope } from './context.js';

/**
 * A Baton predicate as an ASL Choice rule (without `Next`). Baton treats a comparison on a
 * missing path as false, where ASL raises a runtime error, so every comparison is guarded by
 * `IsPresent`. `absent` is `Not: { IsPresent: true }`: the same on AWS, where `IsPresent: false`
 * also matches a missing path, and on aws-local-stepfunctions, where `IsPresent: false` never
 * matches.
 */
export function compilePredicate(scope: Scope, p: Predicate): Record<string, unknown> {
  if ('and' in p) return { And: p.and.map((q) => compilePredicate(scope, q)) };
  if ('or' in p) return { Or: p.or.map((q) => compilePredicate(scope, q)) };
  if ('not' in p) return { Not: compilePredicate(scope, p.not) };
  const Variable = rootPath(scope, p.path);
  const present = { Variable, IsPresent: true };
  if (p.op === 'present') return present;
  if (p.op === 'absent') return { Not: present };
  if (p.op === 'eq' || p.op === 'ne') {
    const eq = equals(Variable, p.value);
    return { And: [present, p.op === 'eq' ? eq : { Not: eq }] };
  }
  if (p.op !== 'gt' && p.op !== 'gte' && p.op !== 'lt' && p.op !== 'lte') return present;
  const op = { gt: 'NumericGreaterThan', gte: 'NumericGreaterThanEquals', lt: 'NumericLessThan', lte: 'NumericLessThanEquals' }[p.op];
  return { And: [present, { Variable, IsNumeric: true }, { Variable, [op]: p.value }] };
}

function equals(Variable: string, value: string | number | boolean | null): Record<string, unknown> {
  if (value === null) return { Variable, IsNull: true };
  if (typeof value === 'string')
    return {
      And: [
        { Variable, IsString: true },
        { Variable, StringEquals: value },
      ],
    };
  if (typeof value === 'number')
    return {
      And: [
        { Variable, IsNumeric: true },
        { Variable, NumericEquals: value },
      ],
    };
  return {
    And: [
      { Variable, IsBoolean: true },
      { Variable, BooleanEquals: value },
    ],
  };
}
