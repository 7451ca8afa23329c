import type { Predicate } from './ir.js';
import { hasPath, readPath } from './paths.js';

/** Evaluates a {@link Predicate} against the state. A comparison on a missing path is false. */
export function evaluatePredicate(p: Predicate, state: unknown): boolean {
  if ('and' in p) return p.and.every((q) => evaluatePredicate(q, state));
  if ('or' in p) return p.or.some((q) => evaluatePredicate(q, state));
  if ('not' in p) return !evaluatePredicate(p.not, state);
  if (p.op === 'present') return hasPath(state, p.path);
  if (p.op === 'absent') return !hasPath(state, p.path);
  if (!hasPath(state, p.path)) return false;
  const v = readPath(state, p.path);
  switch (p.op) {
    case 'eq':
      return v === p.value;
    case 'ne':
      return v !== p.value;
    case 'gt':
      return typeof v === 'number' && v > p.value;
    case 'gte':
      return typeof v === 'number' && v >= p.value;
    case 'lt':
      return typeof v === 'number' && v < p.value;
    case 'lte':
      return typeof v === 'number' && v <= p.value;
  }
}
