import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFsBlobStore, createMemoryBlobStore, getText, sha256Hex, type BlobStore } from './blob-store.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'baton-blobs-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const stores: [string, () => BlobStore][] = [
  ['memory', () => createMemoryBlobStore()],
  ['fs', () => createFsBlobStore({ root: tempDir() })],
];

describe.each(stores)('%s blob store', (_name, make) => {
  it('puts and gets bytes and text, reporting size and sha256', async () => {
    const store = make();
    const put = await store.put('runs/r1/a.txt', 'héllo');
    expect(put).toEqual({ key: 'runs/r1/a.txt', bytes: 6, sha256: sha256Hex('héllo'), written: true });
    expect(await getText(store, 'runs/r1/a.txt')).toBe('héllo');
    await store.put('bin', new Uint8Array([0, 255, 7]));
    expect([...(await store.get('bin'))]).toEqual([0, 255, 7]);
  });

  it('is idempotent: the same bytes under the same key are written once; new bytes replace', async () => {
    const store = make();
    expect((await store.put('k/x', 'one')).written).toBe(true);
    expect((await store.put('k/x', 'one')).written).toBe(false);
    expect((await store.put('k/x', 'two')).written).toBe(true);
    expect(await getText(store, 'k/x')).toBe('two');
  });

  it('reports exactly one write when the same new blob is put many times at once', async () => {
    const store = make();
    const puts = await Promise.all(Array.from({ length: 20 }, () => store.put('race/same.txt', 'same bytes')));
    expect(puts.filter((p) => p.written)).toHaveLength(1);
    expect(await getText(store, 'race/same.txt')).toBe('same bytes');
  });

  it("stores a copy: changing the caller's buffer or a read result does not change the blob", async () => {
    const store = make();
    const buf = new Uint8Array([1, 2, 3]);
    await store.put('buf', buf);
    buf[0] = 9;
    const read = await store.get('buf');
    read[1] = 9;
    expect([...(await store.get('buf'))]).toEqual([1, 2, 3]);
  });

  it('has / delete / list by prefix, sorted', async () => {
    const store = make();
    for (const k of ['b/2', 'a/1', 'b/1', 'c']) await store.put(k, k);
    expect(await store.has('b/1')).toBe(true);
    expect(await store.has('b/9')).toBe(false);
    expect(await store.list()).toEqual(['a/1', 'b/1', 'b/2', 'c']);
    expect(await store.list('b/')).toEqual(['b/1', 'b/2']);
    await store.delete('b/1');
    await store.delete('never-there');
    expect(await store.list('b/')).toEqual(['b/2']);
  });

  it('a missing blob fails with StageFailed naming the key', async () => {
    const store = make();
    await expect(store.get('nope/x')).rejects.toMatchObject({ code: 'StageFailed', message: 'blob "nope/x" does not exist', details: { key: 'nope/x' } });
  });

  it('rejects keys that escape the store: absolute, "..", empty', async () => {
    const store = make();
    for (const key of ['/etc/passwd', '../outside', 'a/../../b', '']) {
      await expect(store.put(key, 'x')).rejects.toMatchObject({ code: 'InvalidInput' });
      await expect(store.get(key)).rejects.toMatchObject({ code: 'InvalidInput' });
    }
  });
});

describe('fs blob store', () => {
  it('writes atomically: a temp file renamed into place, no temp file left, never listed', async () => {
    const root = tempDir();
    const store = createFsBlobStore({ root });
    const big = 'y'.repeat(1 << 20);
    await Promise.all([store.put('doc/big.txt', big), store.put('doc/big.txt', big), store.put('doc/big.txt', big)]);
    expect(readFileSync(join(root, 'doc/big.txt'), 'utf8')).toBe(big);
    expect(readdirSync(join(root, 'doc'))).toEqual(['big.txt']);
    expect(await store.list()).toEqual(['doc/big.txt']);
  });

  it('a temp file left by a crash mid-write is neither listed nor read in place of the blob', async () => {
    const root = tempDir();
    const store = createFsBlobStore({ root });
    await store.put('doc/a.json', '{"v":1}');
    writeFileSync(join(root, 'doc', 'a.json.5f0c.tmp'), '{"v":2, "half-writ');
    expect(await store.list()).toEqual(['doc/a.json']);
    expect(await getText(store, 'doc/a.json')).toBe('{"v":1}');
    expect((await store.put('doc/a.json', '{"v":1}')).written).toBe(false);
  });

  it('keeps blobs across store instances over the same directory', async () => {
    const root = tempDir();
    await createFsBlobStore({ root }).put('persist/a', 'kept');
    const again = createFsBlobStore({ root });
    expect(await getText(again, 'persist/a')).toBe('kept');
    expect((await again.put('persist/a', 'kept')).written).toBe(false);
  });

  it('lists nothing for a root that does not exist yet', async () => {
    const store = createFsBlobStore({ root: join(tempDir(), 'not-yet') });
    expect(await store.list()).toEqual([]);
    expect(await store.has('x')).toBe(false);
  });

  it('surfaces read errors other than a missing file', async () => {
    const root = tempDir();
    const store = createFsBlobStore({ root });
    await store.put('dir/file', 'x');
    await expect(store.get('dir')).rejects.toMatchObject({ code: 'EISDIR' });
  });
});

describe('memory blob store', () => {
  it('counts writes', async () => {
    const store = createMemoryBlobStore();
    await store.put('a', 'x');
    await store.put('a', 'x');
    await store.put('b', 'x');
    expect(store.writes).toBe(2);
  });
});
