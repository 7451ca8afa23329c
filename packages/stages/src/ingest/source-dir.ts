import { closeSync, constants, lstatSync, openSync, readFileSync, readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { join, relative, isAbsolute, sep } from 'node:path';
import type { RejectReason } from './reject.js';

/** One entry of a sources directory, as {@link listSourceDir} judged it. */
export type SourceDirEntry =
  | { name: string; /** The real path to read (symlinks inside the directory resolved). */ path: string }
  | { name: string; rejected: { reason: RejectReason; message: string } };

/**
 * Lists a directory of source documents without trusting it: regular files are read; a symlink
 * is followed only when its target is a file inside the same directory (by real path, so
 * `../` and absolute links, and links through linked directories, never leave it); a dot-file, a
 * dangling or outside symlink, a subdirectory or an unreadable entry is returned as `rejected`
 * with the reason, so the run records it as that file's failure instead of skipping it or aborting.
 * Names are sorted. Throws (the caller's error) only when `dir` itself cannot be read.
 *
 * @example
 * ```ts
 * for (const e of listSourceDir('sources')) if ('path' in e) upload(e.name, readSourceFile(e));
 * ```
 */
export function listSourceDir(dir: string): SourceDirEntry[] {
  const root = realpathSync(dir);
  return readdirSync(root)
    .sort()
    .map((name) => judge(root, name));
}

/**
 * The bytes of an accepted entry of {@link listSourceDir}. Its path is real (no symlink in it), so
 * it is opened with O_NOFOLLOW: a file swapped for a symlink after the listing is refused.
 */
export function readSourceFile(entry: { path: string }): Uint8Array {
  const fd = openSync(entry.path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    return new Uint8Array(readFileSync(fd));
  } finally {
    closeSync(fd);
  }
}

function judge(root: string, name: string): SourceDirEntry {
  const reject = (reason: RejectReason, message: string): SourceDirEntry => ({ name, rejected: { reason, message } });
  if (name.startsWith('.')) return reject('dot-file', 'hidden file (the name starts with "."): not read as a source');
  const path = join(root, name);
  let link: ReturnType<typeof lstatSync>;
  try {
    link = lstatSync(path);
  } catch (e) {
    return reject('unreadable-file', `cannot read it: ${(e as Error).message}`);
  }
  if (link.isSymbolicLink()) {
    const target = readlinkSync(path);
    let real: string;
    try {
      real = realpathSync(path);
    } catch {
      return reject('dangling-symlink', `dangling symbolic link to "${target}" (nothing there)`);
    }
    if (!inside(root, real)) return reject('symlink-outside', `symbolic link to "${target}", outside the sources directory: not followed`);
    if (!statSync(real).isFile()) return reject('not-a-file', `symbolic link to "${target}", which is not a regular file`);
    return { name, path: real };
  }
  if (!link.isFile())
    return reject('not-a-file', link.isDirectory() ? 'a directory: sources are the files directly in the sources directory' : 'not a regular file');
  return { name, path };
}

function inside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}
