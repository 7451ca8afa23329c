import { describe, expect, it } from 'vitest';
import type { Predicate } from './ir.js';
import { evaluatePredicate } from './predicate.js';

const state = { n: 3, s: 'ok', flag: false, nil: null, nested: { list: [1, 2] } };
const holds = (p: Predicate): boolean => evaluatePredicate(p, state);

describe('evaluatePredicate', () => {
  it('compares with eq / ne on any scalar', () => {
    expect(holds({ path: '$.s', op: 'eq', value: 'ok' })).toBe(true);
    expect(holds({ path: '$.s', op: 'eq', value: 'no' })).toBe(false);
    expect(holds({ path: '$.flag', op: 'eq', value: false })).toBe(true);
    expect(holds({ path: '$.nil', op: 'eq', value: null })).toBe(true);
    expect(holds({ path: '$.n', op: 'ne', value: 4 })).toBe(true);
    expect(holds({ path: '$.n', op: 'eq', value: '3' as unknown as number })).toBe(false);
  });

  it('orders numbers with gt / gte / lt / lte', () => {
    expect(holds({ path: '$.n', op: 'gt', value: 2 })).toBe(true);
    expect(holds({ path: '$.n', op: 'gt', value: 3 })).toBe(false);
    expect(holds({ path: '$.n', op: 'gte', value: 3 })).toBe(true);
    expect(holds({ path: '$.n', op: 'lt', value: 3 })).toBe(false);
    expect(holds({ path: '$.n', op: 'lte', value: 3 })).toBe(true);
    expect(holds({ path: '$.nested.list[1]', op: 'lt', value: 5 })).toBe(true);
  });

  it('ordering a non-number is false, never a coercion', () => {
    for (const op of ['gt', 'gte', 'lt', 'lte'] as const) expect(holds({ path: '$.s', op, value: 0 })).toBe(false);
  });

  it('present / absent test the path', () => {
    expect(holds({ path: '$.nested.list', op: 'present' })).toBe(true);
    expect(holds({ path: '$.nil', op: 'present' })).toBe(true);
    expect(holds({ path: '$.missing', op: 'present' })).toBe(false);
    expect(holds({ path: '$.missing', op: 'absent' })).toBe(true);
  });

  it('a comparison on a missing path is false (ne as well), not an error', () => {
    expect(holds({ path: '$.missing.deep', op: 'eq', value: 1 })).toBe(false);
    expect(holds({ path: '$.missing', op: 'ne', value: 1 })).toBe(false);
    expect(holds({ path: '$.missing', op: 'lt', value: 1 })).toBe(false);
  });

  it('combines with and / or / not', () => {
    const t: Predicate = { path: '$.n', op: 'eq', value: 3 };
    const f: Predicate = { path: '$.n', op: 'eq', value: 4 };
    expect(holds({ and: [t, t] })).toBe(true);
    expect(holds({ and: [t, f] })).toBe(false);
    expect(holds({ or: [f, t] })).toBe(true);
    expect(holds({ or: [f, f] })).toBe(false);
    expect(holds({ not: f })).toBe(true);
    expect(holds({ not: { and: [t, { or: [f, { not: t }] }] } })).toBe(true);
    expect(holds({ and: [] })).toBe(true);
    expect(holds({ or: [] })).toBe(false);
  });
});
