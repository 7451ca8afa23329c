import { sha256Hex } from '@baton/core/engine';
import { listSourceDir, readSourceFile, type SourceRef } from '@baton/stages';
import { CliError } from './errors.js';

/**
 * Uploads a `--sources` directory to the blob store as the run's `input.sources`. Only regular
 * files in it (and symlinks to files in it) are read; a dot-file, a symlink out of the directory
 * or a dangling one, a subdirectory is handed to the run as a refused source (`rejected`), so
 * ingest records it as that file's failure, naming the reason, and the run goes on with the rest.
 *
 * @example
 * ```ts
 * input.sources = await uploadSourceDir(session.blobs, 'sources');
 * ```
 */
export async function uploadSourceDir(blobs: { put(key: string, data: Uint8Array): Promise<unknown> }, dir: string): Promise<SourceRef[]> {
  let entries: ReturnType<typeof listSourceDir>;
  try {
    entries = listSourceDir(dir);
  } catch (e) {
    throw new CliError(`cannot read --sources "${dir}": ${(e as Error).message}. Pass a directory of .txt, .md, .html, .pdf or .docx files.`);
  }
  if (entries.length === 0) throw new CliError(`--sources "${dir}" contains no files`);
  const out: SourceRef[] = [];
  for (const entry of entries) {
    if ('rejected' in entry) {
      out.push({ key: `rejected/${entry.name}`, name: entry.name, rejected: entry.rejected });
      continue;
    }
    const bytes = readSourceFile(entry);
    const key = `sources/${sha256Hex(bytes).slice(0, 16)}/${entry.name}`;
    await blobs.put(key, bytes);
    out.push({ key, name: entry.name });
  }
  return out;
}
