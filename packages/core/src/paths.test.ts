import { describe, expect, it } from 'vitest';
import { isStageError } from './errors.js';
import { hasPath, isValidPath, parsePath, readPath, select, selectionPaths, writePath } from './paths.js';

const state = { plan: { sections: [{ title: 'Intro' }, { title: 'Method' }] }, 'odd key': 1, n: 0, nil: null };

function runtimeError(fn: () => unknown): { message: string; details: Record<string, unknown> } {
  try {
    fn();
  } catch (e) {
    expect(isStageError(e)).toBe(true);
    if (!isStageError(e)) throw e;
    expect(e.code).toBe('States.Runtime');
    expect(e.retryable).toBe(false);
    return { message: e.message, details: e.details as Record<string, unknown> };
  }
  throw new Error('expected a States.Runtime error');
}

describe('parsePath', () => {
  it('parses dotted, indexed and quoted segments', () => {
    expect(parsePath('$')).toEqual([]);
    expect(parsePath('$.plan.sections[1].title')).toEqual(['plan', 'sections', 1, 'title']);
    expect(parsePath("$['odd key']")).toEqual(['odd key']);
    expect(parsePath('$$.Map.Item.Value')).toEqual(['Map', 'Item', 'Value']);
  });

  it('rejects malformed paths with States.Runtime naming the problem', () => {
    expect(runtimeError(() => parsePath('plan.sections')).message).toContain('must start with "$"');
    expect(runtimeError(() => parsePath('$.plan..x')).message).toContain('unexpected "..x"');
    expect(runtimeError(() => parsePath('$.a[x]')).message).toContain('unexpected "[x]"');
    expect(isValidPath('$.a[0]')).toBe(true);
    expect(isValidPath('$.a[')).toBe(false);
  });
});

describe('readPath', () => {
  it('reads nested values, array items and falsy values', () => {
    expect(readPath(state, '$.plan.sections[1].title')).toBe('Method');
    expect(readPath(state, "$['odd key']")).toBe(1);
    expect(readPath(state, '$.n')).toBe(0);
    expect(readPath(state, '$.nil')).toBeNull();
    expect(readPath(state, '$')).toBe(state);
  });

  it('names the missing segment and where it was looked for', () => {
    const e = runtimeError(() => readPath(state, '$.plan.chapters[0]'));
    expect(e.message).toBe('path $.plan.chapters[0]: nothing at ".chapters" under $.plan');
    expect(e.details).toEqual({ path: '$.plan.chapters[0]', missing: '.chapters', at: '$.plan' });
    const idx = runtimeError(() => readPath(state, '$.plan.sections[5].title'));
    expect(idx.message).toContain('nothing at "[5]" under $.plan.sections');
    const underNull = runtimeError(() => readPath(state, '$.nil.x'));
    expect(underNull.details).toMatchObject({ missing: '.x', at: '$.nil' });
  });

  it('reads the context object with $$', () => {
    const ctx = { Execution: { Id: 'run-1' }, Map: { Item: { Index: 2, Value: { title: 'C' } } } };
    expect(readPath(state, '$$.Map.Item.Value.title', ctx)).toBe('C');
    expect(readPath(state, '$$.Map.Item.Index', ctx)).toBe(2);
    expect(readPath(state, '$$.Execution.Id', ctx)).toBe('run-1');
    expect(runtimeError(() => readPath(state, '$$.Map.Item.Value', {})).message).toContain('nothing at ".Map" under $');
  });

  it('hasPath tells whether a path resolves', () => {
    expect(hasPath(state, '$.plan.sections[0]')).toBe(true);
    expect(hasPath(state, '$.plan.sections[2]')).toBe(false);
    expect(hasPath(state, 'bad')).toBe(false);
  });
});

describe('select', () => {
  it('returns the whole state without a selection and a value for a path', () => {
    expect(select(state, undefined)).toBe(state);
    expect(select(state, '$.plan.sections[0]')).toEqual({ title: 'Intro' });
  });

  it('fills templates: .$ keys read paths, other values are copied, arrays and nesting kept', () => {
    const ctx = { Map: { Item: { Index: 1, Value: 'v' } } };
    const out = select(
      state,
      {
        'first.$': '$.plan.sections[0].title',
        style: 'formal',
        nested: { 'index.$': '$$.Map.Item.Index', list: [{ 'item.$': '$$.Map.Item.Value' }, 3] },
        none: null,
      },
      ctx,
    );
    expect(out).toEqual({ first: 'Intro', style: 'formal', nested: { index: 1, list: [{ item: 'v' }, 3] }, none: null });
  });

  it('a template path that does not resolve fails naming the segment', () => {
    expect(runtimeError(() => select(state, { 'x.$': '$.plan.title' })).message).toContain('nothing at ".title" under $.plan');
    expect(runtimeError(() => select(state, { 'x.$': 3 })).message).toContain('the value of "x.$" must be a path string');
  });

  it('selectionPaths lists every path a selection reads', () => {
    expect(selectionPaths(undefined)).toEqual([]);
    expect(selectionPaths('$.a')).toEqual(['$.a']);
    expect(selectionPaths({ 'a.$': '$.a', b: { 'c.$': '$$.Map.Item.Value', d: [{ 'e.$': '$.e' }] }, f: 'plain' })).toEqual(['$.a', '$$.Map.Item.Value', '$.e']);
  });
});

describe('writePath', () => {
  it('$ or undefined replaces the state, null discards the value', () => {
    expect(writePath(state, '$', 5)).toBe(5);
    expect(writePath(state, undefined, 5)).toBe(5);
    expect(writePath(state, null, 5)).toBe(state);
  });

  it('writes into a copy, creating objects on the way and leaving the original untouched', () => {
    const before = structuredClone(state);
    const out = writePath(state, '$.plan.meta.count', 2) as typeof state & { plan: { meta: { count: number } } };
    expect(out.plan.meta.count).toBe(2);
    expect(out.plan.sections).toEqual(state.plan.sections);
    expect(state).toEqual(before);
    expect(writePath(undefined, '$.a.b', 1)).toEqual({ a: { b: 1 } });
    expect(writePath({ a: 'scalar' }, '$.a.b', 1)).toEqual({ a: { b: 1 } });
  });

  it('writes into arrays by index, copying them', () => {
    const arr = [{ v: 1 }, { v: 2 }];
    const out = writePath({ arr }, '$.arr[1].v', 9) as { arr: { v: number }[] };
    expect(Array.isArray(out.arr)).toBe(true);
    expect(out.arr).toEqual([{ v: 1 }, { v: 9 }]);
    expect(arr[1]!.v).toBe(2);
    expect(writePath([1, 2], '$[0]', 7)).toEqual([7, 2]);
  });

  it('refuses to write the context object', () => {
    expect(runtimeError(() => writePath(state, '$$.Map', 1)).message).toContain('cannot write the context object');
  });
});
