import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { isStageError } from '@baton/core';
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { createS3BlobStore } from './s3.js';

const endpoint = inject('s3Endpoint');
const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
const bucket = `baton-${randomUUID().slice(0, 8)}`;

describe('S3 blob store against a local S3-compatible server (moto)', () => {
  beforeAll(async () => {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  it('puts, gets, lists and deletes bytes, and skips identical re-puts', async () => {
    const blobs = createS3BlobStore({ bucket, prefix: 'runs/a/', client });
    const first = await blobs.put('sections/x/raw.json', '{"a":1}');
    expect(first).toMatchObject({ key: 'sections/x/raw.json', bytes: 7, written: true });
    const again = await blobs.put('sections/x/raw.json', '{"a":1}');
    expect(again.written).toBe(false);
    expect(again.sha256).toBe(first.sha256);
    const changed = await blobs.put('sections/x/raw.json', '{"a":2}');
    expect(changed.written).toBe(true);
    expect(Buffer.from(await blobs.get('sections/x/raw.json')).toString()).toBe('{"a":2}');
    const binary = new Uint8Array([0, 255, 1, 254, 10]);
    await blobs.put('bin/data', binary);
    expect([...(await blobs.get('bin/data'))]).toEqual([...binary]);
    expect(await blobs.has('bin/data')).toBe(true);
    expect(await blobs.has('bin/missing')).toBe(false);
    expect(await blobs.list()).toEqual(['bin/data', 'sections/x/raw.json']);
    expect(await blobs.list('sections/')).toEqual(['sections/x/raw.json']);
    await blobs.delete('bin/data');
    await blobs.delete('bin/never-existed');
    expect(await blobs.list()).toEqual(['sections/x/raw.json']);
  });

  it('pages through listings longer than one S3 page', async () => {
    const blobs = createS3BlobStore({ bucket, prefix: 'paging/', client, pageSize: 7 });
    const keys = Array.from({ length: 45 }, (_, i) => `k/${String(i).padStart(4, '0')}`);
    await Promise.all(keys.map((k) => blobs.put(k, k)));
    expect(await blobs.list('k/')).toEqual(keys);
  });

  it('reports a missing key as a StageError naming it, and rejects keys that escape', async () => {
    const blobs = createS3BlobStore({ bucket, client });
    const err = await blobs.get('nope/missing.json').catch((e: unknown) => e);
    expect(isStageError(err)).toBe(true);
    expect((err as Error).message).toContain('nope/missing.json');
    await expect(blobs.put('../x', 'y')).rejects.toThrow(/invalid blob key/);
  });

  it('maps an unreachable server to a StageError', async () => {
    const dead = createS3BlobStore({
      bucket,
      clientConfig: {
        endpoint: 'http://127.0.0.1:1',
        region: 'us-east-1',
        forcePathStyle: true,
        maxAttempts: 1,
        credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      },
    });
    const err = await dead.put('a', 'b').catch((e: unknown) => e);
    expect(isStageError(err)).toBe(true);
  });
});
