import { createHash, randomUUID } from 'node:crypto';
import { link, mkdir, readFile, rename, rm, stat, writeFile, readdir } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { StageError } from '../errors.js';

/** What a put did: where the blob is, its size and hash, and whether bytes were written. */
export interface PutResult {
  key: string;
  bytes: number;
  sha256: string;
  /** false when an identical blob was already stored under the key (idempotent re-delivery). */
  written: boolean;
}

/**
 * Where stages and the claim check keep bytes. Puts are idempotent: putting the same bytes
 * under the same key twice writes once, so a re-delivered stage does not duplicate its effect.
 */
export interface BlobStore {
  /** Stores `data` under `key`, skipping the write when identical bytes are already there. */
  put(key: string, data: Uint8Array | string): Promise<PutResult>;
  /** Reads a blob; throws a `StageFailed` error naming the key when it is missing. */
  get(key: string): Promise<Uint8Array>;
  /** Whether a blob exists under `key`. */
  has(key: string): Promise<boolean>;
  /** Removes a blob (no error when absent). */
  delete(key: string): Promise<void>;
  /** Keys under a prefix, sorted. */
  list(prefix?: string): Promise<string[]>;
}

/** Reads a blob as UTF-8 text. */
export async function getText(store: BlobStore, key: string): Promise<string> {
  return Buffer.from(await store.get(key)).toString('utf8');
}

/** Hex sha256 of bytes or a string. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A blob store in process memory, for tests and short-lived runs. */
export function createMemoryBlobStore(): BlobStore & { readonly writes: number } {
  const blobs = new Map<string, { data: Uint8Array; sha256: string }>();
  let writes = 0;
  return {
    get writes() {
      return writes;
    },
    async put(key, data) {
      checkKey(key);
      const bytes = toBytes(data);
      const sha256 = sha256Hex(bytes);
      if (blobs.get(key)?.sha256 === sha256) return { key, bytes: bytes.byteLength, sha256, written: false };
      // copies in and out, as bytes on disk would be: a caller reusing its buffer cannot alter a stored blob
      blobs.set(key, { data: Uint8Array.from(bytes), sha256 });
      writes++;
      return { key, bytes: bytes.byteLength, sha256, written: true };
    },
    // keys are checked on every call, as the fs store does, so a bad key fails in tests too
    async get(key) {
      checkKey(key);
      const hit = blobs.get(key);
      if (!hit) throw missing(key);
      return Uint8Array.from(hit.data);
    },
    async has(key) {
      checkKey(key);
      return blobs.has(key);
    },
    async delete(key) {
      checkKey(key);
      blobs.delete(key);
    },
    async list(prefix = '') {
      return [...blobs.keys()].filter((k) => k.startsWith(prefix)).sort();
    },
  };
}

/** Options of {@link createFsBlobStore}. */
export interface FsBlobStoreOptions {
  /** Directory that holds the blobs. */
  root: string;
}

/**
 * A blob store on the local filesystem (the default). Writes go to a temporary file and are
 * renamed into place, so a crash never leaves a half-written blob under its key.
 */
export function createFsBlobStore(options: FsBlobStoreOptions): BlobStore {
  const root = resolve(options.root);
  const pathOf = (key: string): string => {
    checkKey(key);
    const p = resolve(root, key);
    if (!p.startsWith(root + sep)) throw new StageError('InvalidInput', `blob key "${key}" escapes the store root`);
    return p;
  };
  return {
    async put(key, data) {
      const file = pathOf(key);
      const bytes = toBytes(data);
      const sha256 = sha256Hex(bytes);
      const existing = await readFile(file).catch(() => null);
      if (existing && sha256Hex(existing) === sha256) return { key, bytes: bytes.byteLength, sha256, written: false };
      await mkdir(dirname(file), { recursive: true });
      const tmp = `${file}.${randomUUID()}.tmp`;
      await writeFile(tmp, bytes);
      // link() fails when the key exists, so of two processes putting the same new blob at once
      // exactly one reports `written: true`; rename() then replaces a blob with other bytes.
      try {
        await link(tmp, file);
        return { key, bytes: bytes.byteLength, sha256, written: true };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const now = await readFile(file).catch(() => null);
        if (now && sha256Hex(now) === sha256) return { key, bytes: bytes.byteLength, sha256, written: false };
        await rename(tmp, file);
        return { key, bytes: bytes.byteLength, sha256, written: true };
      } finally {
        await rm(tmp, { force: true });
      }
    },
    async get(key) {
      try {
        return new Uint8Array(await readFile(pathOf(key)));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw missing(key);
        throw e;
      }
    },
    async has(key) {
      return stat(pathOf(key)).then(
        (s) => s.isFile(),
        () => false,
      );
    },
    async delete(key) {
      await rm(pathOf(key), { force: true });
    },
    async list(prefix = '') {
      const out: string[] = [];
      const walk = async (dir: string): Promise<void> => {
        const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
        for (const e of entries) {
          const p = join(dir, e.name);
          if (e.isDirectory()) await walk(p);
          else if (!e.name.endsWith('.tmp')) out.push(relative(root, p).split(sep).join('/'));
        }
      };
      await walk(root);
      return out.filter((k) => k.startsWith(prefix)).sort();
    },
  };
}

function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

function checkKey(key: string): void {
  if (!key || key.startsWith('/') || key.split('/').includes('..')) {
    throw new StageError('InvalidInput', `invalid blob key "${key}": use a relative key without ".."`);
  }
}

function missing(key: string): StageError {
  return new StageError('StageFailed', `blob "${key}" does not exist`, { details: { key } });
}
