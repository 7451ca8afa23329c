import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { StageError, type BlobStore } from '@baton/core';
import { sha256Hex } from '@baton/core/engine';

/** Options of {@link createS3BlobStore}. */
export interface S3BlobStoreOptions {
  bucket: string;
  /** Key prefix inside the bucket (no leading slash). @default '' */
  prefix?: string;
  /** A client to reuse; otherwise one is built from `clientConfig`. */
  client?: S3Client;
  /** Region, endpoint, credentials, `forcePathStyle` for S3-compatible servers. */
  clientConfig?: S3ClientConfig;
  /** Keys per ListObjectsV2 page. @default 1000 */
  pageSize?: number;
}

/**
 * A {@link BlobStore} on Amazon S3 or an S3-compatible server. Puts are idempotent: the sha256
 * of the bytes is stored as object metadata and an identical re-put is skipped after a HEAD.
 *
 * @example
 * ```ts
 * const blobs = createS3BlobStore({ bucket: 'baton-runs', prefix: 'prod/', clientConfig: { region: 'eu-west-1' } });
 * ```
 */
export function createS3BlobStore(options: S3BlobStoreOptions): BlobStore {
  const client = options.client ?? new S3Client(options.clientConfig ?? {});
  const prefix = options.prefix ?? '';
  const Bucket = options.bucket;
  const keyOf = (key: string): string => {
    if (!key || key.startsWith('/') || key.split('/').includes('..'))
      throw new StageError('InvalidInput', `invalid blob key "${key}": use a relative key without ".."`);
    return prefix + key;
  };
  return {
    async put(key, data) {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      const sha256 = sha256Hex(bytes);
      const existing = await client.send(new HeadObjectCommand({ Bucket, Key: keyOf(key) })).catch((e: unknown) => {
        if (isNotFound(e)) return undefined;
        throw infra(e, key);
      });
      if (existing?.Metadata?.sha256 === sha256) return { key, bytes: bytes.byteLength, sha256, written: false };
      await client.send(new PutObjectCommand({ Bucket, Key: keyOf(key), Body: bytes, Metadata: { sha256 } })).catch((e: unknown) => {
        throw infra(e, key);
      });
      return { key, bytes: bytes.byteLength, sha256, written: true };
    },
    async get(key) {
      try {
        const res = await client.send(new GetObjectCommand({ Bucket, Key: keyOf(key) }));
        if (!res.Body) throw new StageError('StageFailed', `blob "${key}" has no body`);
        return await res.Body.transformToByteArray();
      } catch (e) {
        if (isNotFound(e)) throw new StageError('StageFailed', `blob "${key}" does not exist`, { details: { key } });
        throw infra(e, key);
      }
    },
    async has(key) {
      return client.send(new HeadObjectCommand({ Bucket, Key: keyOf(key) })).then(
        () => true,
        (e: unknown) => {
          if (isNotFound(e)) return false;
          throw infra(e, key);
        },
      );
    },
    async delete(key) {
      await client.send(new DeleteObjectCommand({ Bucket, Key: keyOf(key) })).catch((e: unknown) => {
        if (!isNotFound(e)) throw infra(e, key);
      });
    },
    async list(sub = '') {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const res = await client.send(
          new ListObjectsV2Command({
            Bucket,
            Prefix: prefix + sub,
            ...(options.pageSize ? { MaxKeys: options.pageSize } : {}),
            ...(token ? { ContinuationToken: token } : {}),
          }),
        );
        for (const o of res.Contents ?? []) if (o.Key) keys.push(o.Key.slice(prefix.length));
        token = res.IsTruncated ? res.NextContinuationToken : undefined;
      } while (token);
      return keys.sort();
    },
  };
}

function isNotFound(e: unknown): boolean {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return err.name === 'NoSuchKey' || err.name === 'NotFound' || err.$metadata?.httpStatusCode === 404;
}

function infra(e: unknown, key: string): StageError {
  const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = err.$metadata?.httpStatusCode;
  const code = status === 503 || status === 500 || err.name === 'SlowDown' ? 'ServiceUnavailableException' : 'StageFailed';
  return new StageError(code, `S3 ${err.name ?? 'error'} on "${key}": ${err.message ?? ''}`, { cause: e, details: { key, httpStatus: status ?? null } });
}
