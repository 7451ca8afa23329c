import { describe, expect, it } from 'vitest';
import { isBlobRef, type BlobRef } from './blob-ref.js';
import { containsRef, jsonBytes, loadRef, offloadLarge, resolveRefs } from './claim-check.js';
import { isStageError } from './errors.js';
import { createMemoryBlobStore } from './ports/blob-store.js';

const text = (n: number): string => 'x'.repeat(n);

describe('offloadLarge', () => {
  it('leaves a value at or under the threshold untouched and writes nothing', async () => {
    const blobs = createMemoryBlobStore();
    const value = { a: text(100) };
    expect(await offloadLarge(value, blobs, 'claims/r', jsonBytes(value))).toBe(value);
    expect(blobs.writes).toBe(0);
  });

  it('keep: a kept path and the objects around it stay plain JSON, other large fields still move out', async () => {
    const blobs = createMemoryBlobStore();
    const value = { plan: { sections: [text(5000), text(5000)], notes: text(20_000) }, body: text(20_000) };
    const out = (await offloadLarge(value, blobs, 'claims/r', 8000, { keep: ['$.plan.sections'] })) as {
      plan: { sections: unknown; notes: unknown };
      body: unknown;
    };
    expect(out.plan.sections).toEqual(value.plan.sections);
    expect(isBlobRef(out.plan)).toBe(false);
    expect(isBlobRef(out.plan.notes)).toBe(true);
    expect(isBlobRef(out.body)).toBe(true);
    expect(await resolveRefs(out, blobs)).toEqual(value);
  });

  it('keepKeys: an object of many small fields over the threshold keeps its keys instead of becoming one reference', async () => {
    const blobs = createMemoryBlobStore();
    const value = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`, text(200)]));
    expect(isBlobRef(await offloadLarge(value, blobs, 'claims/r', 4000))).toBe(true);
    const kept = (await offloadLarge(value, blobs, 'claims/r', 4000, { keepKeys: true })) as Record<string, unknown>;
    expect(Object.keys(kept)).toEqual(Object.keys(value));
    expect(await resolveRefs(kept, blobs)).toEqual(value);
  });

  it('moves the largest parts out and keeps the structure around them', async () => {
    const blobs = createMemoryBlobStore();
    const value = { title: 'report', sections: [text(5000), text(5000)], body: text(20_000), small: text(600) };
    const out = (await offloadLarge(value, blobs, 'claims/r', 8000)) as Record<string, unknown>;
    expect(out.title).toBe('report');
    expect(isBlobRef(out.body)).toBe(true);
    expect(isBlobRef(out.sections)).toBe(true);
    expect(out.small).toBe(value.small);
    expect(jsonBytes(out)).toBeLessThanOrEqual(8000);
    expect((out.body as BlobRef).$blob).toMatch(/^claims\/r\/[0-9a-f]{64}\.json$/);
    expect((out.body as BlobRef).bytes).toBe(jsonBytes(value.body));
    expect(await resolveRefs(out, blobs)).toEqual(value);
  });

  it('offloads a large array element-wise so items stay addressable', async () => {
    const blobs = createMemoryBlobStore();
    const value = [text(3000), text(3000), 'tiny'];
    const out = (await offloadLarge(value, blobs, 'claims/r', 4000)) as unknown[];
    expect(Array.isArray(out)).toBe(true);
    expect(out).toHaveLength(3);
    expect(out[2]).toBe('tiny');
    expect(out.filter(isBlobRef)).toHaveLength(1);
    expect(await resolveRefs(out, blobs)).toEqual(value);
  });

  it('replaces the whole value when its parts are too small to help', async () => {
    const blobs = createMemoryBlobStore();
    const value = Array.from({ length: 200 }, (_, i) => `item-${i}`);
    const out = await offloadLarge(value, blobs, 'claims/r', 1000);
    expect(isBlobRef(out)).toBe(true);
    expect(await resolveRefs(out, blobs)).toEqual(value);
    const str = await offloadLarge(text(5000), blobs, 'claims/r', 1000);
    expect(isBlobRef(str)).toBe(true);
  });

  it('is idempotent: keys derive from the content, a second offload writes nothing', async () => {
    const blobs = createMemoryBlobStore();
    const value = { body: text(10_000) };
    const a = await offloadLarge(value, blobs, 'claims/r', 1000);
    const writes = blobs.writes;
    const b = await offloadLarge(value, blobs, 'claims/r', 1000);
    expect(b).toEqual(a);
    expect(blobs.writes).toBe(writes);
  });
});

describe('loadRef / resolveRefs', () => {
  it('verifies the sha256 on resolve and rejects a corrupt blob', async () => {
    const blobs = createMemoryBlobStore();
    const ref = (await offloadLarge({ body: text(5000) }, blobs, 'claims/r', 100)) as BlobRef;
    expect(isBlobRef(ref)).toBe(true);
    expect(await loadRef(ref, blobs)).toEqual({ body: text(5000) });
    await blobs.put(ref.$blob, JSON.stringify({ body: text(4999) + 'y' }));
    const err = await loadRef(ref, blobs).catch((e: unknown) => e);
    expect(isStageError(err)).toBe(true);
    expect(err).toMatchObject({ code: 'StageFailed', retryable: false, details: { key: ref.$blob, expected: ref.sha256 } });
    expect((err as Error).message).toContain(`claim check ${ref.$blob} is corrupt`);
    await expect(resolveRefs({ nested: [ref] }, blobs)).rejects.toMatchObject({ code: 'StageFailed' });
  });

  it('a reference to a missing blob fails naming the key', async () => {
    const blobs = createMemoryBlobStore();
    await expect(loadRef({ $blob: 'claims/r/none.json', bytes: 1, sha256: 'x' }, blobs)).rejects.toThrow('blob "claims/r/none.json" does not exist');
  });

  it('resolves references nested in references, arrays and objects, and leaves scalars', async () => {
    const blobs = createMemoryBlobStore();
    const inner = (await offloadLarge(text(2000), blobs, 'c', 100)) as BlobRef;
    const outer = (await offloadLarge({ inner, pad: text(2000) }, blobs, 'c', 100)) as BlobRef;
    expect(isBlobRef(outer)).toBe(true);
    expect(await resolveRefs([outer, 1, null, 'a'], blobs)).toEqual([{ inner: text(2000), pad: text(2000) }, 1, null, 'a']);
  });

  it('containsRef finds references at any depth', () => {
    const ref: BlobRef = { $blob: 'k', bytes: 1, sha256: 's' };
    expect(containsRef({ a: [{ b: ref }] })).toBe(true);
    expect(containsRef({ a: [{ b: 1 }] })).toBe(false);
    expect(containsRef(ref)).toBe(true);
    expect(containsRef('x')).toBe(false);
  });

  it('jsonBytes counts UTF-8 bytes of the JSON form', () => {
    expect(jsonBytes('é')).toBe(4);
    expect(jsonBytes(undefined)).toBe(4);
  });
});
